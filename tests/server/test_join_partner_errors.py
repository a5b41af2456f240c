"""Joining a partner CoP by URL: addresses that name no community get a clear 400."""

from __future__ import annotations

import pytest

from tests.server.test_auth import fast_argon2, start_web
from tests.server.test_community_web import post_form, sign_in


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


@pytest.mark.parametrize("path", ["/search", "/c/nobody_here", "/u/ghost", "/t/1"])
async def test_local_url_that_is_not_an_actor_is_a_clear_400(
    aiohttp_server, aiohttp_client, database_url, path
):
    web = await start_web(aiohttp_server, aiohttp_client, database_url)
    token = await sign_in(web, "nadia")
    response = await post_form(
        web, "/communities/follow", token, address=f"https://copnet.test{path}"
    )
    assert response.status == 400
    assert "Could not find that community" in await response.text()
