"""The Network's front page lists recent conversations to anyone: a private CoP's threads stay
out of it, while its open CoPs' threads show."""

from __future__ import annotations

import pytest

from tests.server.test_auth import start_web
from tests.server.test_feeds import build_world


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url, tmp_path):
    return await start_web(
        aiohttp_server, aiohttp_client, database_url, media_dir=str(tmp_path / "media")
    )


async def test_front_page_keeps_private_cops_threads_out(web):
    await build_world(web.client.server.app)
    response = await web.client.get("/")
    assert response.status == 200
    page = await response.text()
    assert "Honey dressings" in page
    assert "Ward secret" not in page
    assert "Spam thread" not in page
