"""The embeddable chat widget in headless Chromium, on a page served from another origin than the platform (a
shop's site): one <script> tag, an end-user token from the page, a cited answer streamed, a reload that resumes
the conversation, and an expired token that is told so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, FrameLocator, Page, expect

from common.launcher.ports import free_port
from tests.support.platform import ChatPlatform, Knowledge, auth

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "widget"


@pytest.fixture
def shop_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static site on its own origin (another host name and port than the platform's)."""
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{port}", tmp_path
    finally:
        server.shutdown()
        server.server_close()


def shop_page(platform: ChatPlatform, tenant_id: str, agent_id: str, token: str) -> str:
    return f"""<!doctype html><html><head><title>Lantern shop</title></head><body>
<h1>Lantern shop</h1><p>Questions? Ask our assistant.</p>
<script src="{platform.orchestrator}/widget.js" data-tenant="{tenant_id}" data-agent="{agent_id}"
        data-token="{token}" data-title="Lantern help" async></script>
</body></html>"""


async def frame_of(page: Page) -> FrameLocator:
    await page.locator("button[data-nooble4=launcher]").click()
    return page.frame_locator("iframe[data-nooble4=frame]")


async def test_a_shop_embeds_the_widget_and_its_customer_chats_reloads_and_resumes(
    chat_platform: ChatPlatform, browser: Browser, shop_site: tuple[str, Path]
) -> None:
    origin, root = shop_site
    key = await chat_platform.new_tenant()
    management = chat_platform.url("agent_management_service")
    async with Knowledge(chat_platform, key) as knowledge:
        collection = await knowledge.collection("shop")
        await knowledge.ingested(collection, "lanterns.md", b"# Lanterns\n\nOur storm lanterns burn for 40 hours.")
    agent = await chat_platform.new_agent(key, name="Lantern help", collection_ids=[collection])
    async with httpx.AsyncClient(timeout=10, headers=auth(key)) as http:
        tenant_id = (await http.get(f"{management}/api/v1/tenants/me")).json()["id"]
        allowed = await http.put(f"{management}/api/v1/tenants/me/allowed-origins", json={"allowed_origins": [origin]})
        assert allowed.status_code == 200
    token = (await chat_platform.end_user_token(key, agent, "shopper-7"))["token"]
    (root / "index.html").write_text(shop_page(chat_platform, tenant_id, agent, token))

    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{origin}/index.html")
    frame = await frame_of(page)
    await expect(frame.locator("#status")).to_have_text("ready", timeout=15_000)
    await frame.get_by_label("Message").fill("How long do the storm lanterns burn?")
    await frame.get_by_label("Message").press("Enter")
    answer = frame.locator(".msg.assistant").last
    await expect(answer.locator("a.cite", has_text="[1]")).to_have_count(1, timeout=30_000)  # cited
    await expect(answer.locator("blockquote")).to_contain_text("40 hours")
    await expect(answer.locator(".sources li").first).to_contain_text("lanterns.md")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "widget.png"))

    await page.reload()  # the widget reopens as it was and the conversation is there
    frame = page.frame_locator("iframe[data-nooble4=frame]")
    await expect(frame.locator(".msg.user .body")).to_have_text(
        ["How long do the storm lanterns burn?"], timeout=15_000
    )
    await expect(frame.locator(".msg.assistant blockquote")).to_contain_text("40 hours")
    await frame.get_by_label("Message").fill("thanks")
    await frame.get_by_label("Message").press("Enter")
    await expect(frame.locator(".msg.assistant")).to_have_count(2, timeout=30_000)
    async with httpx.AsyncClient(timeout=10, headers=auth(key)) as http:
        stored = (
            await http.get(
                f"{chat_platform.url('conversation_service')}/api/v1/conversations", params={"end_user_id": "shopper-7"}
            )
        ).json()
    assert stored["total"] == 1 and stored["items"][0]["message_count"] == 4  # one conversation, kept per user
    assert errors == []


async def test_an_expired_token_is_told_in_the_widget(
    chat_platform: ChatPlatform, browser: Browser, shop_site: tuple[str, Path]
) -> None:
    origin, root = shop_site
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key)
    management = chat_platform.url("agent_management_service")
    async with httpx.AsyncClient(timeout=10, headers=auth(key)) as http:
        tenant_id = (await http.get(f"{management}/api/v1/tenants/me")).json()["id"]
        await http.put(f"{management}/api/v1/tenants/me/allowed-origins", json={"allowed_origins": [origin]})
    minted = await chat_platform.end_user_token(key, agent, "shopper-8")
    await chat_platform.expire("end_user_tokens", minted["id"])  # as if its lifetime had passed
    (root / "index.html").write_text(shop_page(chat_platform, tenant_id, agent, minted["token"]))
    page = await browser.new_page()
    await page.goto(f"{origin}/index.html")
    frame = await frame_of(page)
    await expect(frame.locator("#notice")).to_contain_text("expired", timeout=15_000)
