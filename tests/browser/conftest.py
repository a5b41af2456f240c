"""Headless Chromium (Debian's package) driven by Playwright, against copnet over real TCP."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    """Debian's chromium; the tests fail (never skip) with the command to install it."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("headless Chromium is needed: apt-get install chromium", pytrace=False)
    return path


@pytest.fixture
async def browser():
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
async def site(aiohttp_server, database_url):
    """copnet at http://127.0.0.1:PORT, a URL the browser can open directly."""
    from tests.support.instances import start_copnet

    running = await start_copnet(aiohttp_server, database_url, None, host="127.0.0.1")
    yield running
    await running.client.close()
