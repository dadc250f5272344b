"""MCP tool servers on the real platform, with the SDK's own server in a subprocess (Streamable HTTP): a tenant
registers it, an agent enables two of its tools, a chat turn calls one and streams its result; tools not
enabled are never given to the model; other tenants see nothing; a server that hangs, garbles its answers,
fails with 500 or is gone ends that tool call with an error and the turn still ends; private addresses are
refused; the server's header secret appears in no API response, log line or Redis value."""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from common.launcher.ports import free_port
from common.messaging.queue_manager import QueueManager
from tests.e2e.test_console import sign_in
from tests.support.helpers import eventually, redis_contents
from tests.support.platform import ROOT, ChatPlatform, auth, chat

MANAGEMENT = "agent_management_service"
HOST = "127.0.0.2"  # the loopback address the test platform's operator allows
API_KEY = "mcp-" + secrets.token_hex(16)  # the header secret that must never show


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[str]:
    """The SDK's server with four tools, behind `X-Api-Key`; its base URL."""
    with serving_mcp() as base:
        yield base


@contextmanager
def serving_mcp() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.mcp_server", "tools", HOST, str(port), API_KEY],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(f"http://{HOST}:{port}/control/ok", proc)
        yield f"http://{HOST}:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def _wait_listening(url: str, proc: subprocess.Popen[bytes]) -> None:
    give_up = time.monotonic() + 20
    while time.monotonic() < give_up:
        assert proc.poll() is None, "the MCP test server exited"
        try:
            httpx.post(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError("the MCP test server did not start")


async def api(platform: ChatPlatform, key: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.request(method, f"{platform.url(MANAGEMENT)}{path}", headers=auth(key), **kwargs)


async def register(platform: ChatPlatform, key: str, base: str, name: str = "orders") -> dict[str, Any]:
    body = {"name": name, "url": f"{base}/mcp", "headers": {"X-Api-Key": API_KEY}}
    response = await api(platform, key, "POST", "/api/v1/mcp-servers", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def turn(platform: ChatPlatform, key: str, agent_id: str, content: str) -> list[dict[str, Any]]:
    session = await platform.new_session(key, agent_id)
    async with chat(session, key) as client:
        await client.until("session_ready")
        await client.send(type="message", content=content)
        return await client.until("message_end", "error", timeout=30)


async def test_an_agent_calls_the_mcp_tools_it_enabled_and_only_those(
    chat_platform: ChatPlatform, mcp_server: str
) -> None:
    key = await chat_platform.new_tenant()
    other = await chat_platform.new_tenant()
    server = await register(chat_platform, key, mcp_server)
    assert {t["name"] for t in server["tools"]} == {"lookup_order", "add", "delete_everything", "wait_forever"}
    assert server["header_names"] == ["X-Api-Key"] and server["last_error"] is None
    enabled = [{"server": "orders", "tool": "lookup_order"}, {"server": "orders", "tool": "add"}]
    agent = await chat_platform.new_agent(key, name="Orders", mcp_tools=enabled)
    unknown = await api(
        chat_platform,
        key,
        "PATCH",
        f"/api/v1/agents/{agent}",
        json={"mcp_tools": [{"server": "orders", "tool": "nope"}]},
    )
    assert unknown.status_code == 422 and unknown.json()["error"]["error_code"] == "unknown_mcp_tool"

    events = await turn(chat_platform, key, agent, 'Where is my order? orders__lookup_order {"order_id": "42"}')
    calls = [e for e in events if e["type"] == "tool_call"]
    results = [e for e in events if e["type"] == "tool_result"]
    assert [c["name"] for c in calls] == ["orders__lookup_order"] and calls[0]["args"] == {"order_id": "42"}
    assert "Order 42: shipped on 2026-12-01" in results[0]["summary"]
    assert events[-1]["type"] == "message_end" and "tracking ZX-42-77" in events[-1]["content"]

    refused = await turn(chat_platform, key, agent, 'Clean up: orders__delete_everything {"confirm": true}')
    assert not [e for e in refused if e["type"] == "tool_call"]  # never given to the model
    assert refused[-1]["type"] == "message_end" and "everything deleted" not in refused[-1]["content"]

    # another tenant: cannot see the server, nor enable its tools
    assert (await api(chat_platform, other, "GET", "/api/v1/mcp-servers")).json() == []
    assert (await api(chat_platform, other, "GET", f"/api/v1/mcp-servers/{server['id']}")).status_code == 404
    foreign = await api(
        chat_platform,
        other,
        "POST",
        "/api/v1/agents",
        json={"name": "Thief", "system_prompt": "x", "mcp_tools": enabled},
    )
    assert foreign.status_code == 422 and foreign.json()["error"]["error_code"] == "unknown_mcp_tool"

    await _never_shows_the_header_secret(chat_platform, key)


async def test_a_broken_server_ends_the_tool_call_with_an_error_and_the_turn_goes_on(
    chat_platform: ChatPlatform, mcp_server: str
) -> None:
    key = await chat_platform.new_tenant()
    await register(chat_platform, key, mcp_server, name="flaky")
    enabled = [{"server": "flaky", "tool": "wait_forever"}, {"server": "flaky", "tool": "add"}]
    agent = await chat_platform.new_agent(key, name="Flaky", mcp_tools=enabled)

    started = time.monotonic()
    hung = await turn(chat_platform, key, agent, "flaky__wait_forever {}")
    assert time.monotonic() - started < 10  # the call's 2 s limit, not the turn's
    assert "did not answer within 2 s" in next(e for e in hung if e["type"] == "tool_result")["summary"]
    assert hung[-1]["type"] == "message_end"

    async with httpx.AsyncClient() as http:
        for mode, said in (("garbage", "did not answer"), ("error", "HTTP 500")):
            assert (await http.post(f"{mcp_server}/control/{mode}")).status_code == 200
            events = await turn(chat_platform, key, agent, 'flaky__add {"a": 1, "b": 2}')
            result = next(e for e in events if e["type"] == "tool_result")
            assert result["summary"].startswith("error:") and said in result["summary"], (mode, result)
            assert events[-1]["type"] == "message_end"
        await http.post(f"{mcp_server}/control/ok")
    works = await turn(chat_platform, key, agent, 'flaky__add {"a": 1, "b": 2}')
    assert next(e for e in works if e["type"] == "tool_result")["summary"] == "3"


async def test_an_unreachable_or_private_server_is_a_clear_error(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    with serving_mcp() as base:  # a server that answers as the agent is set up, then goes away
        await register(chat_platform, key, base, name="brief")
        agent = await chat_platform.new_agent(key, name="Brief", mcp_tools=[{"server": "brief", "tool": "add"}])
    events = await turn(chat_platform, key, agent, 'brief__add {"a": 1, "b": 2}')
    assert next(e for e in events if e["type"] == "tool_result")["summary"] == "error: the MCP server is unreachable"
    assert events[-1]["type"] == "message_end"
    gone = await api(
        chat_platform,
        key,
        "POST",
        "/api/v1/mcp-servers",
        json={"name": "gone", "url": f"http://{HOST}:{free_port()}/mcp"},
    )
    assert gone.status_code == 201 and gone.json()["last_error"] == "the MCP server is unreachable"
    for url in ("http://127.0.0.1:8000/mcp", "http://169.254.169.254/mcp", "http://[::1]/mcp"):
        refused = await api(chat_platform, key, "POST", "/api/v1/mcp-servers", json={"name": "bad", "url": url})
        assert refused.status_code == 422 and refused.json()["error"]["error_code"] == "url_not_allowed", url


async def _never_shows_the_header_secret(platform: ChatPlatform, key: str) -> None:
    listed = await api(platform, key, "GET", "/api/v1/mcp-servers")
    audit = await api(platform, key, "GET", "/api/v1/audit")
    assert API_KEY not in listed.text + audit.text
    logs = Path(platform.home) / "n4" / "logs"
    assert not [p.name for p in logs.glob("*.log") if API_KEY in p.read_text(errors="replace")]
    redis = Redis.from_url(platform.env["NOOBLE4_REDIS_URL"], decode_responses=True)
    try:
        seen = await redis_contents(redis, QueueManager(platform.settings.environment).prefix)
    finally:
        await redis.aclose()
    assert any("orders__lookup_order" in item or "lookup_order" in item for item in seen)  # the scan saw the turn
    assert not [item for item in seen if API_KEY in item]


async def test_the_console_adds_a_server_shows_its_tools_and_enables_them_for_an_agent(
    chat_platform: ChatPlatform, mcp_server: str, browser: Browser
) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key, name="Console agent")
    page = await browser.new_page()
    try:
        await sign_in(page, chat_platform, key)
        await page.get_by_role("button", name="Tools").click()
        await page.get_by_label("Server name").fill("shop")
        await page.get_by_label("Server URL").fill(f"{mcp_server}/mcp")
        await page.get_by_label("Header name").fill("X-Api-Key")
        await page.get_by_label("Header value").fill(API_KEY)
        await page.get_by_role("button", name="Add server").click()
        await expect(page.locator("#mcpServers")).to_contain_text("lookup_order")
        await page.get_by_role("button", name="Test shop").click()
        await expect(page.locator("#message")).to_contain_text("shop answers: 4 tool(s)")
        assert API_KEY not in await page.content()

        await page.get_by_role("button", name="Agents").click()
        # the agents drawn again, now with the server's tools to choose from
        await expect(page.locator("#agents option[value='shop/lookup_order']")).to_have_count(1)
        await page.locator("#agents summary").first.click()
        await page.get_by_label("From MCP servers").select_option(["shop/lookup_order"])
        await page.get_by_role("button", name="Save Console agent").click()

        async def enabled() -> bool:
            got = await api(chat_platform, key, "GET", f"/api/v1/agents/{agent}")
            return got.json()["mcp_tools"] == [{"server": "shop", "tool": "lookup_order"}]

        await eventually(enabled, what="the agent saved with the MCP tool")
    finally:
        await page.close()
