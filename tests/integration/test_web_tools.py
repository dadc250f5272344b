"""The agent's web tools against a real HTTP server: `web_fetch` returns a page's readable text behind the
outbound guard; `http_request` reaches only the hosts the agent allows; outputs are capped; both are off unless
an agent names them."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from agent_execution_service.services.tools import web_tools
from agent_execution_service.settings import ExecutionSettings
from common.contracts.management import AgentFields
from common.launcher.ports import free_port
from tests.support.helpers import serving

PAGE = b"""<!doctype html><html><head><style>body{color:red}</style><script>var secret = 1;</script></head>
<body><h1>Opening hours</h1><p>The museum opens at <b>10:00</b>.</p></body></html>"""


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = PAGE if self.path == "/page" else b"x" * 50_000
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if self.path == "/page" else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(201)
            self.send_header("Content-Length", str(len(body) + 9))
            self.end_headers()
            self.wfile.write(b"received:" + body)

        def log_message(self, *args: Any) -> None:
            pass

    with serving(ThreadingHTTPServer(("127.0.0.2", free_port()), Handler)) as server:
        yield f"127.0.0.2:{server.server_address[1]}"


def tools(site: str, allowed_hosts: list[str]) -> dict[str, Any]:
    settings = ExecutionSettings(outbound_allowed_networks=["127.0.0.2/32"], tool_output_max_chars=500)
    return {t.name: t for t in web_tools(["web_fetch", "http_request"], allowed_hosts, settings)}


async def test_web_fetch_gives_readable_text_and_refuses_private_addresses(site: str) -> None:
    fetch = tools(site, [])["web_fetch"]
    text = await fetch.ainvoke({"url": f"http://{site}/page"})
    assert text == "Opening hours The museum opens at 10:00 ."
    assert "secret" not in text and "color" not in text
    big = await fetch.ainvoke({"url": f"http://{site}/big"})
    assert big.endswith("[cut at 500 characters]") and len(big) < 600
    for url in ("http://127.0.0.1:9/", "http://169.254.169.254/latest/meta-data", "file:///etc/passwd"):
        refused = await fetch.ainvoke({"url": url})
        assert refused.startswith("error:"), url


async def test_http_request_reaches_only_the_agents_hosts(site: str) -> None:
    request = tools(site, [site])["http_request"]
    posted = await request.ainvoke({"method": "POST", "url": f"http://{site}/orders", "body": '{"id": 7}'})
    assert posted == 'HTTP 201\nreceived:{"id": 7}'
    other = f"127.0.0.2:{free_port()}"
    assert (await request.ainvoke({"method": "GET", "url": f"http://{other}/"})).startswith(
        "error: this agent may not call"
    )
    assert (await request.ainvoke({"method": "GET", "url": "http://example.invalid/"})).startswith("error: this agent")
    none = tools(site, [])["http_request"]
    assert (await none.ainvoke({"method": "GET", "url": f"http://{site}/page"})).startswith("error: this agent")


def test_web_tools_are_off_unless_an_agent_names_them() -> None:
    assert AgentFields(name="a", system_prompt="b").tools == []
    assert web_tools([], ["example.com"], ExecutionSettings()) == []
