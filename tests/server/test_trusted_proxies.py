"""X-Forwarded-For is believed only from COPNET_TRUSTED_PROXIES, so limits cannot be dodged."""

from __future__ import annotations

import ipaddress
import re

import pytest

from server.appkeys import SIGNUP_LIMITER
from server.http.ratelimit import client_address
from server.settings import load_settings
from server.settings_validation import SettingsError
from server.web.routes_auth import SIGNUPS_PER_HOUR
from tests.server.test_auth import HTML, fast_argon2, start_web


class _Request:
    def __init__(self, remote, forwarded=None):
        self.remote = remote
        self.headers = {"X-Forwarded-For": forwarded} if forwarded else {}


PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1"))


def test_forwarded_for_is_ignored_without_configured_proxies():
    for peer in ("127.0.0.1", "10.0.0.2", "192.168.1.1", "93.184.216.34"):
        assert client_address(_Request(peer, "203.0.113.5")) == peer


def test_forwarded_for_is_read_through_the_configured_proxies_only():
    assert client_address(_Request("127.0.0.1", "198.51.100.7, 203.0.113.5"), PROXIES) == (
        "203.0.113.5"
    )
    # A chain of trusted proxies is walked back to the first outside address.
    assert client_address(_Request("127.0.0.1", "198.51.100.7, 10.1.2.3"), PROXIES) == (
        "198.51.100.7"
    )
    assert client_address(_Request("192.168.1.1", "203.0.113.5"), PROXIES) == "192.168.1.1"
    assert client_address(_Request("93.184.216.34", "203.0.113.5"), PROXIES) == "93.184.216.34"
    assert client_address(_Request("127.0.0.1", "not-an-ip"), PROXIES) == "127.0.0.1"


def test_trusted_proxies_setting_is_parsed_and_checked():
    assert load_settings({}).trusted_proxies == ()
    settings = load_settings({"COPNET_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8,::1"})
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    with pytest.raises(SettingsError, match="COPNET_TRUSTED_PROXIES: 'proxy' is not an IP"):
        load_settings({"COPNET_TRUSTED_PROXIES": "proxy"})


async def _signup_with_forwarded_for(web, index: int):
    page = await (await web.client.get("/signup", headers={"Accept": HTML})).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return await web.client.post(
        "/signup",
        data={"name": f"rotator{index}", "csrf_token": token},
        headers={"Accept": HTML, "X-Forwarded-For": f"203.0.113.{index}"},
        allow_redirects=False,
    )


async def test_rotating_forwarded_for_does_not_escape_the_signup_limit(
    aiohttp_server, aiohttp_client, database_url, monkeypatch
):
    fast_argon2(monkeypatch)
    web = await start_web(aiohttp_server, aiohttp_client, database_url)
    limiter = web.client.app[SIGNUP_LIMITER]
    for _ in range(SIGNUPS_PER_HOUR):
        await limiter.hit("127.0.0.1")
    response = await _signup_with_forwarded_for(web, 99)
    assert response.status == 429
