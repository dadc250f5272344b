"""The tools an agent may be given (`AgentTool` in the management service), as LangChain tools."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool

from agent_execution_service.clients.query_client import QueryClient
from common.errors import NoobleError
from common.grounding import source_item
from common.models.actions import DomainAction

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


def build_tools(
    names: Sequence[str],
    *,
    query_client: QueryClient,
    action: DomainAction,
    knowledge_of: list[str],
    found_sources: list[dict[str, Any]],
) -> list[BaseTool]:
    """The agent's built-in tools, and the knowledge tool over the collections `knowledge_of` (none: no tool)."""
    tools: list[BaseTool] = []
    if "calculator" in names:
        tools.append(StructuredTool.from_function(calculator))
    if "current_time" in names:
        tools.append(StructuredTool.from_function(current_time))
    if knowledge_of:
        tools.append(knowledge_tool(query_client, action, knowledge_of, found_sources))
    return tools
