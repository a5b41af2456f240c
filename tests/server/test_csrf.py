"""CSRF: every form needs its token; ActivityPub JSON deliveries are not forms."""

from __future__ import annotations

import gc
import json

import aiohttp
import pytest
from aiohttp.web_request import BaseRequest

from tests.server.test_auth import (
    HTML,
    PASSWORD,
    fast_argon2,
    make_member,
    set_cookies,
    start_web,
)

EXPIRED = "This form has expired, go back and try again"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url):
    return await start_web(aiohttp_server, aiohttp_client, database_url)


async def test_a_form_post_without_a_token_is_refused(web):
    await make_member(web.app, "sam")
    await web.token("/login")  # the visitor has a CSRF cookie, but the form has no token
    response = await web.client.post(
        "/login",
        data={"login": "sam", "password": PASSWORD},
        headers={"Accept": HTML},
        allow_redirects=False,
    )
    assert response.status == 403
    assert response.content_type == "text/html"
    assert EXPIRED in await response.text()
    assert "copnet_session" not in set_cookies(response)


async def test_a_wrong_or_foreign_token_is_refused_and_the_right_one_works(web):
    await make_member(web.app, "sam")
    data = {"login": "sam", "password": PASSWORD}
    wrong = await web.post("/login", data, token="x" * 43)
    assert wrong.status == 403
    # A token that was valid for another visitor does not work with this visitor's cookie.
    web.forget_cookies()
    other = await web.token("/login")
    web.forget_cookies()
    await web.token("/login")
    assert (await web.post("/login", data, token=other)).status == 403
    assert (await web.post("/login", data)).status == 303


async def test_without_the_cookie_the_form_token_alone_is_not_enough(web):
    await make_member(web.app, "sam")
    token = await web.token("/login")
    web.forget_cookies()
    response = await web.post("/login", {"login": "sam", "password": PASSWORD}, token=token)
    assert response.status == 403
    assert "needs cookies" in await response.text()


async def test_the_visitor_cookie_is_httponly_lax_and_secure_under_https(web):
    response = await web.client.get("/signup", headers={"Accept": HTML})
    cookie = set_cookies(response)["copnet_csrf"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] is True
    assert cookie["path"] == "/"
    assert "no-store" in response.headers["Cache-Control"]
    # The token is reused while the cookie lives: several tabs keep working.
    again = await web.client.get("/login", headers={"Accept": HTML})
    assert "copnet_csrf" not in set_cookies(again)


async def test_pages_without_forms_set_no_cookie(web):
    await make_member(web.app, "sam")
    response = await web.client.get("/u/sam", headers={"Accept": HTML})
    assert response.status == 200
    assert "copnet_csrf" not in set_cookies(response)
    as2 = await web.client.get("/u/sam", headers={"Accept": "application/activity+json"})
    assert "Set-Cookie" not in as2.headers


async def test_members_use_their_sessions_token(web):
    await web.signup("sam")
    member_token = await web.token("/settings/profile")
    visitor_cookie = web.client.session.cookie_jar.filter_cookies(web.client.make_url("/"))
    visitor_token = visitor_cookie["copnet_csrf"].value
    assert member_token != visitor_token
    data = {"display_name": "Sam", "bio": ""}
    assert (await web.post("/settings/profile", data, token=visitor_token)).status == 403
    assert (await web.post("/settings/profile", data, token=member_token)).status == 303
    # A new sign-in is a new session with a new token.
    await web.logout()
    await web.login("sam", PASSWORD)
    assert await web.token("/settings/profile") != member_token


async def test_signing_out_needs_the_token(web):
    await web.signup("sam")
    forged = await web.client.post("/logout", headers={"Accept": HTML}, allow_redirects=False)
    assert forged.status == 403
    assert 'href="/login"' not in await forged.text()  # the page knows sam is signed in
    assert (await web.client.get("/settings/profile", allow_redirects=False)).status == 200
    assert (await web.logout()).status == 303


async def test_text_plain_and_cookied_json_posts_are_checked_too(web):
    await web.signup("sam")
    # A cross-site <form enctype="text/plain"> cannot carry the token.
    plain = await web.client.post(
        "/settings/profile",
        data="display_name=Hacked",
        headers={"Content-Type": "text/plain"},
        allow_redirects=False,
    )
    assert plain.status == 403
    # Anything riding on the session cookie must present the token (header for scripts).
    token = await web.token("/settings/profile")
    cookied = await web.client.post(
        "/logout", data=b"{}", headers={"Content-Type": "application/json"}, allow_redirects=False
    )
    assert cookied.status == 403
    with_header = await web.client.post(
        "/logout",
        data=b"{}",
        headers={"Content-Type": "application/json", "X-CSRF-Token": token},
        allow_redirects=False,
    )
    assert with_header.status == 303


async def test_activitypub_json_posts_to_inboxes_are_not_forms(web):
    await web.token("/login")  # even with a visitor cookie in the jar
    activity = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://social.example/activities/1",
        "type": "Follow",
        "actor": "https://social.example/users/kim",
        "object": "https://copnet.test/c/nursing",
    }
    for content_type in ("application/activity+json", "application/ld+json"):
        response = await web.client.post(
            "/inbox", data=json.dumps(activity), headers={"Content-Type": content_type}
        )
        # The inbox pipeline answered (unsigned -> 401), not the CSRF check.
        assert response.status == 401, await response.text()
        assert response.content_type == "application/json"


async def test_multipart_forms_carry_the_token_in_the_body_never_in_the_url(web):
    await web.signup("sam")
    token = await web.token("/settings/profile")

    def form(with_token: bool, padding: int = 0) -> aiohttp.FormData:
        data = aiohttp.FormData(default_to_multipart=True)
        if with_token:
            data.add_field("csrf_token", token)
        data.add_field("display_name", "Sam")
        data.add_field("bio", "b" * padding)
        return data

    small = await web.client.post("/settings/profile", data=form(True), allow_redirects=False)
    assert small.status == 303
    missing = await web.client.post("/settings/profile", data=form(False), allow_redirects=False)
    assert missing.status == 403
    late_small = aiohttp.FormData(default_to_multipart=True)
    late_small.add_field("display_name", "Sam")
    late_small.add_field("csrf_token", token)
    refused_small = await web.client.post("/settings/profile", data=late_small)
    assert refused_small.status == 403  # the token must come first
    # A large body is stream-parsed up to its first field, the token; the handler reads on.
    large = form(True, padding=64 * 1024)
    accepted = await web.client.post("/settings/profile", data=large, allow_redirects=False)
    assert accepted.status == 400  # past the check: the bio is over its length limit
    assert "Use at most" in await accepted.text()
    late = aiohttp.FormData(default_to_multipart=True)
    late.add_field("display_name", "Sam")
    late.add_field("bio", "b" * (64 * 1024))
    late.add_field("csrf_token", token)
    refused = await web.client.post("/settings/profile", data=late, allow_redirects=False)
    assert refused.status == 403  # a large form must put its token first
    in_query = await web.client.post(
        f"/settings/profile?csrf_token={token}", data=form(False), allow_redirects=False
    )
    assert in_query.status == 403  # a token in the URL is not looked at


async def test_an_answered_page_leaves_no_cycle_for_the_garbage_collector(web):
    # A page's context holds its CSRF token; a token holding its request strongly made every
    # request a cycle, freed only by the collector's passes, which pause the event loop.
    gc.collect()
    gc.disable()
    try:
        for path in ("/login", "/"):
            response = await web.client.get(path, headers={"Accept": HTML})
            assert response.status == 200
            assert 'name="csrf_token"' in await response.text() or path == "/"
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        left = [found for found in gc.garbage if isinstance(found, BaseRequest)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert left == []
