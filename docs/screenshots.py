"""Take the README's screenshots: a fresh demo Network served locally, shot in Chromium.

Run by hand: .venv/bin/python docs/screenshots.py  (needs Debian's chromium).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.async_api import async_playwright

HERE = Path(__file__).parent
ROOT = HERE.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def copnet(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "server.cli.main", *args], env=env, cwd=ROOT, check=True)


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"copnet did not start at {url}")


async def shoot(base: str) -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900})
        await page.goto(base + "/login")
        await page.get_by_label("Name or email").fill("amara")
        await page.get_by_label("Password").fill("copnet-demo-2026")
        await page.get_by_role("button", name="Sign in").click()
        shots = {
            "home": "/",
            "community": "/c/nursing_practice",
            "thread": "/t/1",
            "search": "/search?q=handover",
            "documents": "/c/nursing_practice/documents",
            "basecamps": "/basecamps",
        }
        for name, path in shots.items():
            await page.goto(base + path)
            await page.screenshot(path=str(HERE / f"{name}.png"), full_page=True)
            print(f"docs/{name}.png")
        mobile = await browser.new_page(viewport={"width": 390, "height": 844})
        await mobile.goto(base + "/c/dementia_care")
        await mobile.screenshot(path=str(HERE / "community-mobile.png"), full_page=True)
        print("docs/community-mobile.png")
        await browser.close()


def main() -> None:
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir}/demo.sqlite3",
            "COPNET_URL": f"http://localhost:{port}",
            "COPNET_PORT": str(port),
            "COPNET_RUN_WORKERS": "false",
        }
        copnet(env, "migrate")
        copnet(env, "demo")
        server = subprocess.Popen(
            [sys.executable, "-m", "server.cli.main", "serve"], env=env, cwd=ROOT
        )
        try:
            wait_for(f"http://localhost:{port}/")
            asyncio.run(shoot(f"http://localhost:{port}"))
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()
