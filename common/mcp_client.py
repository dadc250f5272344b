"""A tenant's MCP servers, through the official `mcp` SDK: listing their tools (the management service) and
calling one (the execution service, for a chat turn).

Every connection passes the outbound guard first (common.outbound: private and link-local addresses refused
unless the operator allows their network), runs under a time limit, and every failure — unreachable, slow,
an HTTP 500, an answer that is not MCP, a tool that reports an error — becomes one `McpError` with a message
fit to show a model and a user. A tool's output is capped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, Literal

from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamablehttp_client
from pydantic import BaseModel

from common.errors import ValidationError
from common.outbound import Network, check_outbound_url

Transport = Literal["streamable_http", "sse"]
MAX_TOOLS = 100


class McpError(Exception):
    """A server or tool failed; `str(error)` says how, without secrets."""


class McpToolInfo(BaseModel):
    name: str
    description: str = ""
    input_schema: dict[str, Any] = {}


@asynccontextmanager
async def _session(
    url: str, transport: Transport, headers: dict[str, str], allowed: Sequence[Network], timeout_s: float
) -> AsyncIterator[ClientSession]:
    await check_outbound_url(url, allowed)
    connect = (
        streamablehttp_client(url, headers=headers, timeout=timeout_s, sse_read_timeout=timeout_s)
        if transport == "streamable_http"
        else sse_client(url, headers=headers, timeout=timeout_s, sse_read_timeout=timeout_s)
    )
    async with connect as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write, read_timeout_seconds=timedelta(seconds=timeout_s)) as session:
            await session.initialize()
            yield session


async def list_tools(
    url: str, transport: Transport, headers: dict[str, str], allowed: Sequence[Network], timeout_s: float
) -> list[McpToolInfo]:
    """The server's tools (at most MAX_TOOLS), or McpError (ValidationError for an address refused outright)."""

    async def listed() -> list[McpToolInfo]:
        async with _session(url, transport, headers, allowed, timeout_s) as session:
            result = await session.list_tools()
        return [
            McpToolInfo(name=t.name, description=(t.description or "")[:2_000], input_schema=t.inputSchema or {})
            for t in result.tools[:MAX_TOOLS]
        ]

    return await _guarded(listed(), timeout_s, url)


async def call_tool(
    url: str,
    transport: Transport,
    headers: dict[str, str],
    allowed: Sequence[Network],
    name: str,
    arguments: dict[str, Any],
    *,
    timeout_s: float,
    max_chars: int,
) -> str:
    """The tool's output as text (cut at `max_chars`), or McpError."""

    async def called() -> str:
        async with _session(url, transport, headers, allowed, timeout_s) as session:
            result = await session.call_tool(name, arguments, read_timeout_seconds=timedelta(seconds=timeout_s))
        parts = [getattr(item, "text", None) for item in result.content]
        text = "\n".join(p for p in parts if p) or (
            json.dumps(result.structuredContent) if result.structuredContent is not None else ""
        )
        if result.isError:
            raise McpError(f"the tool {name} failed: {text[:500] or 'no detail'}")
        return text if len(text) <= max_chars else text[:max_chars] + f"\n[cut at {max_chars} characters]"

    return await _guarded(called(), timeout_s, url)


async def _guarded(work: Any, timeout_s: float, url: str) -> Any:
    try:
        async with asyncio.timeout(timeout_s):
            return await work
    except (McpError, ValidationError):
        raise
    except TimeoutError:
        raise McpError(f"the MCP server did not answer within {timeout_s:g} s") from None
    except BaseExceptionGroup as group:  # the SDK's task groups wrap what failed
        raise McpError(_described(_first(group))) from None
    except Exception as exc:
        raise McpError(_described(exc)) from None


def _first(group: BaseExceptionGroup[Any]) -> BaseException:
    inner = group.exceptions[0]
    return _first(inner) if isinstance(inner, BaseExceptionGroup) else inner


def _described(exc: BaseException) -> str:
    if isinstance(exc, McpError | ValidationError):
        return str(exc) if isinstance(exc, McpError) else exc.message
    kind = type(exc).__name__
    if "Connect" in kind or isinstance(exc, ConnectionError | OSError):
        return "the MCP server is unreachable"
    if (response := getattr(exc, "response", None)) is not None and hasattr(response, "status_code"):
        return f"the MCP server answered HTTP {response.status_code}"
    return f"the MCP server's answer could not be used ({kind})"
