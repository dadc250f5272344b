"""The web chat page at `/`, driven in real headless Chromium (Debian's `chromium`) by Playwright."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.support.platform import ChatPlatform


async def open_chat(page: Page, platform: ChatPlatform, api_key: str) -> None:
    await page.goto(f"{platform.orchestrator}/")
    await page.fill("#apiKey", api_key)
    await page.click("#loadAgents")
    await expect(page.locator("#agent option")).to_have_text(["Browser helper"])
    await page.click("#start")
    await expect(page.locator("#status")).to_contain_text("ready")


async def test_the_page_streams_a_reply_token_by_token(chat_platform: ChatPlatform, browser: Browser) -> None:
    key = await chat_platform.new_tenant()
    await chat_platform.new_agent(key, name="Browser helper")
    page = await browser.new_page()
    await open_chat(page, chat_platform, key)

    await page.fill("#input", "hello from the browser")
    await page.press("#input", "Enter")
    await expect(page.locator(".msg.user")).to_have_text(["hello from the browser"])
    await expect(page.locator(".msg.assistant")).to_have_text(["You said: hello from the browser."])

    await page.fill("#input", "tell me a long story")
    await page.click("#send")
    story = page.locator(".msg.assistant").nth(1)
    # Streamed: part of the story is on screen while the reply is still running (Stop is enabled).
    await page.wait_for_function(
        """() => {
            const bubble = document.querySelectorAll('.msg.assistant')[1];
            const words = bubble ? bubble.textContent.split(' ').length : 0;
            return words > 1 && words < 400 && !document.querySelector('#cancel').disabled;
        }"""
    )
    await expect(page.locator("#cancel")).to_be_disabled(timeout=20_000)
    assert len((await story.text_content() or "").split(" ")) == 400


async def test_the_page_shows_errors(chat_platform: ChatPlatform, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(f"{chat_platform.orchestrator}/")
    await page.fill("#apiKey", "nk_wrong")
    await page.click("#loadAgents")
    await expect(page.locator(".msg.error")).to_contain_text("invalid or revoked API key")

    key = await chat_platform.new_tenant("professional")
    await chat_platform.new_agent(key, name="Browser helper", model={"provider": "openai", "name": "fail-500"})
    await open_chat(page, chat_platform, key)
    await page.fill("#input", "hi")
    await page.press("#input", "Enter")
    await expect(page.locator(".msg.error")).to_contain_text("language model provider returned an error")
    await expect(page.locator("#send")).to_be_enabled()  # the turn is over; the user can try again
