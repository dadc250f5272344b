"""The tenant console at `/console`, driven in headless Chromium: sign in, an agent from a template, a
collection, two uploads watched to `ready`, a search with scores, a key created (shown once) and revoked."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.support.platform import ChatPlatform


async def test_a_tenant_admin_works_without_curl(chat_platform: ChatPlatform, browser: Browser, tmp_path: Path) -> None:
    key = await chat_platform.new_tenant("professional")
    files = []
    for name, text in (
        ("hours.txt", "The shop opens at 9 and closes at 17."),
        ("lamps.md", "# Lamps\n\nOur lanterns glow blue."),
    ):
        (tmp_path / name).write_text(text)
        files.append(str(tmp_path / name))
    page = await browser.new_page()
    await page.goto(f"{chat_platform.orchestrator}/console")
    await page.get_by_label("API key or JWT").fill(key)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.locator("#who")).to_contain_text("professional")

    await page.get_by_label("Template").select_option("customer-support")
    await page.get_by_label("Agent name").fill("Helpdesk")
    await page.get_by_role("button", name="Create", exact=True).click()
    await expect(page.locator("#agents tr")).to_have_count(1)
    await expect(page.locator("#agents")).to_contain_text("Helpdesk")

    await page.get_by_role("button", name="Knowledge").click()
    await page.get_by_label("New collection").fill("handbook")
    await page.locator("#collectionForm").get_by_role("button", name="Create").click()
    await expect(page.get_by_label("Collection", exact=True)).to_contain_text("handbook")
    await page.get_by_label("Upload documents").set_input_files(files)
    await expect(page.locator("#documents .status-ready")).to_have_count(2, timeout=60_000)

    await page.get_by_label("Query").fill("lanterns")
    await page.get_by_label("Mode").select_option("text")
    await page.get_by_role("button", name="Search").click()
    await expect(page.locator("#hits .hit").first).to_contain_text("lamps.md")
    await expect(page.locator("#hits .hit").first).to_contain_text("score")

    await page.get_by_role("button", name="Usage and keys").click()
    await page.get_by_label("Key name").fill("laptop")
    await page.get_by_role("button", name="Create key").click()
    await expect(page.locator("#newKey")).to_contain_text("nk_")
    await page.get_by_role("button", name="Revoke laptop").click()
    await expect(page.locator("#keys")).to_contain_text("revoked")
    await expect(page.locator("#message")).to_have_text("")
