"""The tools an agent may be given (`AgentTool` in the management service), as LangChain tools."""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from bs4 import BeautifulSoup
from langchain_core.tools import BaseTool, StructuredTool

from agent_execution_service.clients.query_client import QueryClient
from agent_execution_service.settings import ExecutionSettings
from common.contracts.management import AgentConfig, McpToolBinding
from common.errors import NoobleError, ValidationError
from common.grounding import source_item
from common.mcp_client import McpError, call_tool
from common.models.actions import DomainAction
from common.outbound import check_outbound_url, fetch_url, networks
from common.secret_box import secret_box

_OPERATORS: dict[type, Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
MAX_EXPONENT = 100


def evaluate(expression: str) -> float | int:
    """Arithmetic only (numbers, + - * / // % ** and parentheses): no names, calls or attributes."""

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left, right = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
                raise ValueError("exponent too large")
            return _OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](walk(node.operand))
        raise ValueError("only numbers and + - * / // % ** ( ) are allowed")

    return walk(ast.parse(expression, mode="eval").body)


def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression, e.g. '(2 + 3) * 4'."""
    try:
        return str(evaluate(expression))
    except (ValueError, SyntaxError, ZeroDivisionError, OverflowError) as exc:
        return f"error: {exc}"


def current_time() -> str:
    """The current date and time in UTC (ISO 8601)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def knowledge_tool(
    query_client: QueryClient, action: DomainAction, collection_ids: list[str], found: list[dict[str, Any]]
) -> BaseTool:
    """Searches the agent's collections; what it finds is appended to `found` (the turn's sources)."""

    async def knowledge(query: str) -> str:
        try:
            results = await query_client.search(action, query, collection_ids)
        except NoobleError as exc:
            return f"knowledge search failed ({exc.code}): {exc.message}"
        if not results:
            return "No relevant passages were found in the knowledge base."
        lines = []
        for result in results:
            known = [i for i, item in enumerate(found, start=1) if item.get("chunk_id") == result.chunk_id]
            if not known:  # a chunk found again keeps its first number (also one retrieved before the turn)
                found.append(source_item(result))
            number = known[0] if known else len(found)
            lines.append(f"[{number}] {result.document_title or result.source}: {result.content}")
        return "\n".join(lines)

    return StructuredTool.from_function(
        coroutine=knowledge,
        name="knowledge",
        description="Search the knowledge base of this agent for passages relevant to a question.",
    )


def mcp_tool_name(binding: McpToolBinding) -> str:
    """`server__tool`, as models accept tool names."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{binding.server}__{binding.tool}")[:64]


def mcp_tools(bindings: list[McpToolBinding], tenant_id: str, settings: ExecutionSettings) -> list[BaseTool]:
    """The agent's enabled MCP tools. A call that fails (server down, slow, garbage, a 500, the tool's own
    error) answers the model with the error, and the turn goes on."""
    allowed = networks(settings.outbound_allowed_networks)
    tools: list[BaseTool] = []
    for binding in bindings:
        headers = (
            dict(json.loads(secret_box(settings).open(binding.headers_sealed, tenant_id)))
            if binding.headers_sealed
            else {}
        )

        async def call(_binding: McpToolBinding = binding, _headers: dict[str, str] = headers, **arguments: Any) -> str:
            try:
                return await call_tool(
                    _binding.url,
                    _binding.transport,
                    _headers,
                    allowed,
                    _binding.tool,
                    arguments,
                    timeout_s=settings.mcp_call_timeout_s,
                    max_chars=settings.tool_output_max_chars,
                )
            except McpError as exc:
                return f"error: {exc}"
            except ValidationError as exc:
                return f"error: {exc.message}"

        schema = binding.input_schema if binding.input_schema.get("type") == "object" else {"type": "object"}
        tools.append(
            StructuredTool(
                name=mcp_tool_name(binding),
                description=(binding.description or f"{binding.tool} (MCP server {binding.server})")[:1_000],
                args_schema=schema,
                coroutine=call,
            )
        )
    return tools


def web_tools(names: Sequence[str], allowed_hosts: list[str], settings: ExecutionSettings) -> list[BaseTool]:
    """`web_fetch` (any public URL's readable text) and `http_request` (the agent's allowed hosts only), both
    behind the outbound guard, with size and time limits; a failure answers the model with the error."""
    allowed = networks(settings.outbound_allowed_networks)
    cap = settings.tool_output_max_chars
    tools: list[BaseTool] = []

    async def web_fetch(url: str) -> str:
        """Fetch a public web page or text document and return its readable text."""
        try:
            body, content_type = await fetch_url(
                url,
                max_bytes=settings.web_fetch_max_bytes,
                timeout_s=settings.web_timeout_s,
                allow_private=False,
                allowed=allowed,
            )
        except NoobleError as exc:
            return f"error: {exc.message}"
        return _capped(readable_text(body, content_type), cap)

    async def http_request(method: Literal["GET", "POST"], url: str, body: str = "") -> str:
        """Send a GET or POST request to one of the hosts this agent may call; returns the status and body."""
        parts = urlsplit(url)
        if (parts.netloc.lower() not in allowed_hosts) and ((parts.hostname or "") not in allowed_hosts):
            return (
                f"error: this agent may not call {parts.netloc or url!r}; allowed: {', '.join(allowed_hosts) or 'none'}"
            )
        try:
            await check_outbound_url(url, allowed)
            async with httpx.AsyncClient(timeout=settings.web_timeout_s, follow_redirects=False) as http:
                response = await http.request(method, url, content=body.encode() if method == "POST" else None)
        except NoobleError as exc:
            return f"error: {exc.message}"
        except httpx.HTTPError as exc:
            return f"error: {type(exc).__name__}: {str(exc)[:200]}"
        text = response.content[: settings.web_fetch_max_bytes].decode("utf-8", errors="replace")
        return _capped(f"HTTP {response.status_code}\n{text}", cap)

    if "web_fetch" in names:
        tools.append(StructuredTool.from_function(coroutine=web_fetch, name="web_fetch"))
    if "http_request" in names:
        tools.append(StructuredTool.from_function(coroutine=http_request, name="http_request"))
    return tools


def readable_text(body: bytes, content_type: str | None) -> str:
    """A page's text without markup, scripts and styles; plain text and JSON as they are."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml") or body.lstrip()[:15].lower().startswith(
        (b"<!doctype", b"<html")
    ):
        soup = BeautifulSoup(body, "html.parser")
        for tag in soup(["script", "style", "noscript", "template"]):
            tag.decompose()
        return " ".join(soup.get_text(" ").split())
    if kind.startswith("text/") or kind in ("application/json", "application/xml", ""):
        return body.decode("utf-8", errors="replace")
    return f"error: {kind} is not text"


def _capped(text: str, cap: int) -> str:
    return text if len(text) <= cap else text[:cap] + f"\n[cut at {cap} characters]"


def build_tools(
    names: Sequence[str],
    *,
    query_client: QueryClient,
    action: DomainAction,
    knowledge_of: list[str],
    found_sources: list[dict[str, Any]],
    agent: AgentConfig,
    settings: ExecutionSettings,
) -> list[BaseTool]:
    """The agent's built-in tools, its web tools and MCP tools, and the knowledge tool over the collections
    `knowledge_of` (none: no tool)."""
    tools: list[BaseTool] = []
    if "calculator" in names:
        tools.append(StructuredTool.from_function(calculator))
    if "current_time" in names:
        tools.append(StructuredTool.from_function(current_time))
    tools += web_tools(names, agent.http_allowed_hosts, settings)
    tools += mcp_tools(agent.mcp, action.tenant_id, settings)
    if knowledge_of:
        tools.append(knowledge_tool(query_client, action, knowledge_of, found_sources))
    return tools
