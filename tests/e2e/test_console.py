"""The tenant console at `/console`, driven in headless Chromium through what a tenant admin does, with a
screenshot of each page in `.artifacts/console/` (not committed) for a reviewer to look at."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Dialog, Page, expect

from tests.support.documents import pdf
from tests.support.platform import ChatPlatform

ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts" / "console"


async def snap(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def sign_in(page: Page, platform: ChatPlatform, key: str) -> None:
    await page.goto(f"{platform.orchestrator}/console")
    await page.get_by_label("API key or JWT").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#who")).not_to_be_empty()


async def test_a_tenant_admin_works_without_curl(chat_platform: ChatPlatform, browser: Browser, tmp_path: Path) -> None:
    key = await chat_platform.new_tenant("professional")
    files = []
    for name, content in (  # a question about the uploaded PDF gets the cited, correct answer (screenshot "chat")
        ("hours.pdf", pdf(["Opening hours", "The shop opens at 9 and closes at 17."])),
        ("lamps.md", b"# Lamps\n\nOur lanterns glow blue."),
    ):
        (tmp_path / name).write_bytes(content)
        files.append(str(tmp_path / name))
    page = await browser.new_page()
    await sign_in(page, chat_platform, key)
    await expect(page.locator("#who")).to_contain_text("professional")

    await page.get_by_role("button", name="Knowledge").click()
    await page.get_by_label("New collection").fill("handbook")
    await page.locator("#collectionForm").get_by_role("button", name="Create").click()
    await expect(page.get_by_label("Collection", exact=True)).to_contain_text("handbook")
    await page.get_by_label("Upload documents").set_input_files(files)
    await expect(page.locator("#documents .status-ready")).to_have_count(2, timeout=60_000)
    await page.get_by_label("Text title").fill("Returns")
    await page.get_by_label("Text", exact=True).fill("Returns are accepted within 30 days.")
    await page.get_by_role("button", name="Add text").click()
    await expect(page.locator("#documents .status-ready")).to_have_count(3, timeout=60_000)
    await page.get_by_label("Query").fill("lanterns")
    await page.get_by_label("Mode").select_option("text")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#hits .hit").first).to_contain_text("lamps.md")
    await expect(page.locator("#hits .hit").first).to_contain_text("score")
    await snap(page, "knowledge")

    await page.get_by_role("button", name="Agents").click()
    await page.get_by_label("Template").select_option("knowledge-base-qa")
    await page.get_by_label("Agent name").fill("Helpdesk")
    await page.get_by_label("Knowledge collections").select_option(label="handbook")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("#agents")).to_contain_text("Helpdesk")
    await page.locator("#agents summary").first.click()
    await expect(page.get_by_label("Use of documents")).to_have_value("auto")  # retrieval before every question
    await page.get_by_label("Tools").select_option(["calculator", "current_time"])
    await page.get_by_label("When the documents have no answer, say").fill("Not in our handbook, sorry.")
    await page.get_by_role("button", name="Save Helpdesk").click()
    await page.locator("#agents summary").first.click()
    await expect(page.get_by_label("Tools")).to_have_values(["calculator", "current_time"])
    await expect(page.get_by_label("When the documents have no answer, say")).to_have_value(
        "Not in our handbook, sorry."
    )
    await snap(page, "agents")

    await page.get_by_role("button", name="Chat").click()
    await page.get_by_label("Agent", exact=True).select_option(label="Helpdesk")
    await page.get_by_role("button", name="New chat").click()
    await expect(page.get_by_label("Message", exact=True)).to_be_enabled()
    await page.get_by_label("Message", exact=True).fill("When does the shop open?")
    await page.get_by_role("button", name="Send").click()
    answer = page.locator(".msg.assistant").last
    await expect(answer.locator("a", has_text="[1]")).to_have_count(1, timeout=30_000)  # a cited answer
    await expect(answer.locator("blockquote")).to_contain_text("The shop opens at 9 and closes at 17.")  # quoted
    await expect(answer.locator(".sources li").first).to_contain_text("hours.pdf")
    await expect(answer.locator(".sources li").first).to_contain_text("page 2")
    await page.get_by_role("button", name="Open conversation").first.click()
    await expect(page.locator("#transcript")).to_contain_text("When does the shop open?")
    await snap(page, "chat")

    await page.reload()  # the page reopens on Chat with the session resumed: questions and answers both
    await expect(page.locator("#nav [data-tab=chat]")).to_have_attribute("aria-selected", "true")
    await expect(page.locator("#chatLog .msg.user .body")).to_have_text(["When does the shop open?"])
    await expect(page.locator("#chatLog .msg.assistant").last).to_contain_text("9", timeout=15_000)

    await page.get_by_role("button", name="Usage and keys").click()
    await expect(page.locator("#usage")).to_contain_text("Requests this minute")
    await expect(page.locator("#usage")).to_contain_text("of 200")  # the professional tier's requests per minute
    await expect(page.locator("#usage")).to_contain_text("3 of 1000")  # documents in the last 24 hours
    await page.get_by_label("Key name").fill("laptop")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#newKey")).to_contain_text("nk_")
    await page.get_by_role("button", name="Revoke laptop").click()
    await expect(page.locator("#keys")).to_contain_text("revoked")
    await snap(page, "keys")
    dialogs: list[str] = []

    async def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.accept()

    page.once("dialog", accept)
    await page.get_by_role("button", name="Revoke default").click()  # the key this console is using: asked first
    await expect(page.get_by_label("API key or JWT")).to_be_visible()  # signed out
    assert "signs you out" in dialogs[0]
    await expect(page.locator("#message")).to_contain_text("Signed out")


async def test_api_errors_are_shown_in_plain_words(
    chat_platform: ChatPlatform, browser: Browser, tmp_path: Path
) -> None:
    page = await browser.new_page()
    await page.goto(f"{chat_platform.orchestrator}/console")
    await page.get_by_label("API key or JWT").fill("nk_this-key-does-not-exist-anywhere")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#message")).to_contain_text("invalid or revoked API key")  # 401, in words

    key = await chat_platform.new_tenant("free")  # 1 agent, 1 collection, 10 requests per minute
    await sign_in(page, chat_platform, key)
    await expect(page.get_by_label("Template")).to_contain_text("Customer support")
    await page.get_by_label("Agent name").fill("First")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("#agents")).to_contain_text("First")
    await page.get_by_label("Agent name").fill("Second")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("#message")).to_contain_text("free tier")  # 403 quota, in words
    await page.locator("#agents summary").first.click()
    await expect(page.get_by_label("Model provider").locator("option")).to_have_text(["local"])  # the tier's
    await page.get_by_label("System prompt of First").fill("")
    await page.get_by_role("button", name="Save First").click()
    await expect(page.locator("#message")).to_contain_text("system_prompt")  # 422: the field is named

    await page.get_by_role("button", name="Knowledge").click()
    await page.get_by_label("New collection").fill("docs")
    await page.locator("#collectionForm").get_by_role("button", name="Create").click()
    await expect(page.get_by_label("Collection", exact=True)).to_contain_text("docs")
    (tmp_path / "empty.txt").write_text("  ")
    await page.get_by_label("Upload documents").set_input_files(str(tmp_path / "empty.txt"))
    failed = page.locator("#documents .status-failed")
    await expect(failed).to_have_count(1, timeout=60_000)
    await expect(page.locator("#documents")).to_contain_text("no text")  # the failure reason
    # an empty file fails the same way on every try: no Retry is offered for it
    await expect(page.get_by_role("button", name="Retry empty.txt")).to_have_count(0)
    await page.get_by_label("Query").fill("anything")
    for _ in range(12):
        await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#message")).to_contain_text("try again in")  # 429 with its Retry-After
    await snap(page, "errors")
