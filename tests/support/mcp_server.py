"""MCP servers for tests, run as a subprocess: `python -m tests.support.mcp_server MODE HOST PORT [API_KEY]`.

- `tools`: the SDK's own server (FastMCP) over Streamable HTTP at `/mcp`, and SSE at `/sse-root/sse`, with four tools:
  `lookup_order`, `add`, `delete_everything` and `wait_forever` (never answers); every request must carry
  `X-Api-Key: API_KEY` (401 otherwise), so a test sees that a server's headers are sent.
- `garbage`: answers every request with 200 and a body that is not JSON-RPC.
- `error`: answers every request with 500.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import uvicorn
from mcp.server.fastmcp import FastMCP
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

server = FastMCP(
    "nooble4-test-tools",
    stateless_http=True,
    transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
)


@server.tool()
def lookup_order(order_id: str) -> str:
    """Look up an order by its id: status and contents."""
    return f"Order {order_id}: shipped on 2026-12-01, 3 items, tracking ZX-{order_id}-77."


@server.tool()
def add(a: float, b: float) -> str:
    """Add two numbers."""
    return f"{a + b:g}"


@server.tool()
def delete_everything(confirm: bool) -> str:
    """Delete every record (a tool no agent should be given)."""
    return "everything deleted" if confirm else "nothing deleted"


@server.tool()
async def wait_forever() -> str:
    """Never answers."""
    await asyncio.sleep(3600)
    return "too late"


def tools_app(api_key: str) -> Any:
    """The tools, behind the API key; `POST /control/{ok,garbage,error}` switches how `/mcp` answers from then on
    (a server that breaks after its tools were listed)."""
    mode = {"now": "ok"}
    app = Starlette(
        routes=[Mount("/sse-root", app=server.sse_app()), Mount("/", app=server.streamable_http_app())],
        lifespan=lambda _: server.session_manager.run(),
    )

    async def checked(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/control/"):
            mode["now"] = scope["path"].rsplit("/", 1)[1]
            await PlainTextResponse(mode["now"])(scope, receive, send)
            return
        if scope["type"] == "http" and mode["now"] != "ok":
            broken = garbage if mode["now"] == "garbage" else error
            await (await broken(Request(scope, receive)))(scope, receive, send)
            return
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if headers.get(b"x-api-key", b"").decode() != api_key:
                await PlainTextResponse("missing or wrong X-Api-Key", status_code=401)(scope, receive, send)
                return
        await app(scope, receive, send)

    return checked


async def garbage(_: Request) -> Response:
    return Response('{"jsonrpc": "2.0", "result": [unterminated', media_type="application/json")


async def error(_: Request) -> Response:
    return PlainTextResponse("internal error", status_code=500)


def main() -> None:
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "tools":
        app = tools_app(sys.argv[4])
    else:
        handler = garbage if mode == "garbage" else error
        app = Starlette(routes=[Route("/{path:path}", handler, methods=["GET", "POST", "DELETE"])])
    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    main()
