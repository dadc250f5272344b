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
    await expect(page.locator(".msg.user .body")).to_have_text(["hello from the browser"])
    await expect(page.locator(".msg.assistant .body")).to_have_text(["You said: hello from the browser."])

    await page.fill("#input", "tell me a long story")
    await page.click("#send")
    story = page.locator(".msg.assistant .body").nth(1)
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
    # a disabled button looks disabled
    assert float(await page.locator("#cancel").evaluate("b => getComputedStyle(b).opacity")) < 0.6


async def test_a_reload_keeps_the_key_the_agent_and_every_message(
    chat_platform: ChatPlatform, browser: Browser
) -> None:
    key = await chat_platform.new_tenant()
    await chat_platform.new_agent(key, name="Browser helper")
    page = await browser.new_page()
    await open_chat(page, chat_platform, key)
    for text in ("first question", "second question"):
        await page.fill("#input", text)
        await page.press("#input", "Enter")
        await expect(page.locator(".msg.assistant .body").last).to_contain_text(f"You said: {text}.")
    await page.fill("#input", "tell me a long story")
    await page.press("#input", "Enter")
    await expect(page.locator("#cancel")).to_be_enabled()
    await page.reload()  # while the third answer streams

    await expect(page.locator("#apiKey")).to_have_value(key)
    await expect(page.locator("#agent")).to_have_value(await page.locator("#agent").input_value())
    users = page.locator(".msg.user .body")
    await expect(users).to_have_text(["first question", "second question", "tell me a long story"])
    answers = page.locator(".msg.assistant .body")
    await expect(answers).to_have_count(3)
    await expect(page.locator("#cancel")).to_be_disabled(timeout=20_000)  # the third answer ends on this page
    assert len((await answers.nth(2).text_content() or "").split(" ")) == 400
    await page.fill("#input", "after the reload")  # and the chat goes on
    await page.press("#input", "Enter")
    await expect(answers.last).to_contain_text("You said: after the reload.")


async def test_a_message_over_the_limit_is_refused_in_plain_words_and_not_shown_as_sent(
    chat_platform: ChatPlatform, browser: Browser
) -> None:
    key = await chat_platform.new_tenant()
    await chat_platform.new_agent(key, name="Browser helper")
    page = await browser.new_page()
    await open_chat(page, chat_platform, key)
    await page.fill("#input", "x" * 40_000)
    await expect(page.locator("#counter")).to_have_text("40,000 / 32,000")
    await expect(page.locator("#send")).to_be_disabled()
    await page.press("#input", "Enter")
    await expect(page.locator(".msg.user")).to_have_count(0)
    await expect(page.locator("#input")).to_have_value("x" * 40_000)  # nothing lost: the text is still there
    await page.fill("#input", "x" * 31_000)
    await expect(page.locator("#send")).to_be_enabled()
