"""Every console page at a phone's width (390 px) and a desktop's (1280 px): nothing overflows sideways, and a
screenshot of each is kept in `.artifacts/console/` for a reviewer. Plus the small things a tenant admin met:
the failed first sign-in, the favicon, a new key's secret (copy button, gone once revoked), the document count
of a collection, a document's chunks, the try-it chat beside an agent, end users and the widget page."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, Page, expect

from tests.e2e.test_console import sign_in, snap
from tests.e2e.test_webhooks import Receiver
from tests.support.helpers import eventually
from tests.support.platform import ChatPlatform, Knowledge, chat

TABS = {
    "agents": "#agents tr",
    "knowledge": "#documents tr",
    "chat": "#conversations tr",
    "widget": "#endUserTokens tr",
    "account": "#keys tr",
}


async def no_sideways_overflow(page: Page) -> None:
    width = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert width <= 0, f"the page is {width} px wider than the screen"


async def test_every_page_fits_a_phone_and_a_desktop(chat_platform: ChatPlatform, browser: Browser) -> None:
    key = await chat_platform.new_tenant("professional")
    async with Knowledge(chat_platform, key) as knowledge:
        collection = await knowledge.collection("handbook")
        await knowledge.ingested(collection, "returns.md", b"# Returns\n\nReturns are accepted within 30 days.")
    agent = await chat_platform.new_agent(
        key, name="A helpdesk agent with a rather long name", collection_ids=[collection]
    )
    token = (await chat_platform.end_user_token(key, agent, "customer-with-a-long-identifier@example.com"))["token"]
    async with httpx.AsyncClient(timeout=10) as http:
        session = (
            await http.post(
                f"{chat_platform.orchestrator}/api/v1/chat/sessions",
                json={"agent_id": agent},
                headers={"Authorization": f"Bearer {token}"},
            )
        ).json()
    async with chat(session, token) as client:
        await client.until("session_ready")
        await client.turn("How long can I return things?")

    for width, height in ((390, 844), (1280, 800)):
        page = await browser.new_page(viewport={"width": width, "height": height})
        await sign_in(page, chat_platform, key)
        for tab, content in TABS.items():
            await page.locator(f"#nav [data-tab={tab}]").click()
            await expect(page.locator(content).first).to_be_visible()
            await no_sideways_overflow(page)
            await snap(page, f"{tab}-{width}")
        await page.close()


async def test_the_small_things(chat_platform: ChatPlatform, browser: Browser) -> None:
    page = await browser.new_page()
    assert (await page.request.get(f"{chat_platform.orchestrator}/favicon.ico")).status == 200
    await page.goto(f"{chat_platform.orchestrator}/console")
    await page.get_by_label("API key or JWT").fill("nk_this-key-does-not-exist-anywhere")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#message")).to_have_text(
        "Sign-in failed: invalid or revoked API key."  # not "Signed out": nobody was signed in
    )

    key = await chat_platform.new_tenant("professional")
    async with Knowledge(chat_platform, key) as knowledge:
        collection = await knowledge.collection("handbook")
        await knowledge.ingested(collection, "returns.md", b"# Returns\n\nReturns are accepted within 30 days.")
    await chat_platform.new_agent(key, name="Helpdesk", collection_ids=[collection])
    await sign_in(page, chat_platform, key)

    await page.get_by_role("button", name="Try Helpdesk").click()  # a chat beside the agent's settings
    await expect(page.locator("#trySend")).to_be_enabled()  # connected
    await page.get_by_label("Trial message").fill("Within how many days are returns accepted?")
    await page.get_by_label("Trial message").press("Enter")
    await expect(page.locator("#tryLog .msg.assistant blockquote")).to_contain_text("30 days", timeout=30_000)
    await expect(page.locator("#agents")).to_be_visible()  # still beside the settings

    await page.get_by_role("button", name="Knowledge").click()
    await expect(page.get_by_label("Collection", exact=True)).to_contain_text("handbook (1 document)")
    await page.get_by_role("button", name="Chunks of returns.md").click()
    await expect(page.locator("#chunks .chunk")).to_contain_text("Returns are accepted within 30 days.")
    assert ".pdf" in (await page.get_by_label("Upload documents").get_attribute("accept") or "")

    await page.get_by_role("button", name="Usage and keys").click()
    await page.get_by_label("Key name").fill("temporary")
    await page.get_by_label("Allows").select_option("read")
    await page.get_by_label("Expires").select_option("30")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#newKey")).to_contain_text("nk_")
    await expect(page.locator("#newKey").get_by_role("button", name="Copy the secret")).to_be_visible()
    await expect(page.locator("#keys")).to_contain_text("read")
    await page.get_by_role("button", name="Revoke temporary").click()
    await expect(page.locator("#keys")).to_contain_text("revoked")
    await expect(page.locator("#newKey")).to_be_hidden()  # a revoked key's secret leaves the screen
    await expect(page.locator("#ledgerTotals")).to_contain_text("prompt")
    await expect(page.locator("#usageChart svg rect")).to_have_count(60)  # 30 days, prompt and completion
    await expect(page.locator("#budgets")).to_contain_text("Tenant, per day")
    await page.get_by_label("Period").select_option("7")
    await page.get_by_role("button", name="Show", exact=True).click()
    await expect(page.locator("#usageChart svg rect")).to_have_count(14)
    await expect(page.locator("#audit")).to_contain_text("api_key.revoked")  # the revocation just made, audited
    await snap(page, "keys-after-revoke")

    await page.get_by_label("Endpoint URL").fill("http://169.254.169.254/latest")
    await page.get_by_role("button", name="Add endpoint").click()
    await expect(page.locator("#message")).to_contain_text("refused")  # the cloud metadata address
    with Receiver().running() as receiver:
        await page.get_by_label("Endpoint URL").fill(receiver.url)
        await page.get_by_role("button", name="Add endpoint").click()
        await expect(page.locator("#newWebhookSecret")).to_contain_text("whsec_")
        await page.get_by_role("button", name=f"Send a test event to {receiver.url}").click()
        await expect(page.locator("#deliveries")).to_contain_text("webhook.test")

        async def delivered() -> bool:  # the log as the console shows it, refreshed until the try is in
            await page.get_by_role("button", name=f"Deliveries to {receiver.url}").click()
            return "delivered" in await page.locator("#deliveries").inner_text()

        await eventually(delivered, what="the test event shown delivered")
        await expect(page.locator("#audit")).to_contain_text("webhook.created")
