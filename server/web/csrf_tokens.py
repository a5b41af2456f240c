"""The CSRF tokens that pages carry: a session's synchroniser token, or a visitor's cookie."""

from __future__ import annotations

import re
import secrets
import weakref

from aiohttp import web

from server.web.auth import cached_signed_in, request_key, signed_in

CSRF_COOKIE = "copnet_csrf"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
NEW_VISITOR_TOKEN = request_key("copnet.csrf_new", str)  # a visitor token to set as a cookie
TOKEN_RENDERED = request_key("copnet.csrf_rendered", bool)  # the page has a token: never cache it


def visitor_token(request: web.Request, *, create: bool) -> str | None:
    """A visitor's double-submit token: this request's new one, the cookie's, or a new one."""
    new = request.get(NEW_VISITOR_TOKEN)
    if new:
        return new
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if _TOKEN.fullmatch(cookie):
        return cookie
    if not create:
        return None
    token = secrets.token_urlsafe(32)
    request[NEW_VISITOR_TOKEN] = token
    return token


def token_for(request: web.Request) -> str:
    """The token this request's forms must carry (creating a visitor's on first use).

    Call after `await signed_in(request)` (the context processor does); before that the
    request is treated as a visitor's.
    """
    request[TOKEN_RENDERED] = True
    found = cached_signed_in(request)
    if found is not None:
        return found.web_session.csrf_token
    token = visitor_token(request, create=True)
    assert token is not None
    return token


async def csrf_token(request: web.Request) -> str:
    """token_for, after looking up the session."""
    await signed_in(request)
    return token_for(request)


class LazyCsrfToken:
    """`{{ csrf_token }}` in templates: resolved (and a visitor cookie set) only if rendered.

    Pages without a form therefore never set a cookie, which keeps them cacheable. It holds
    its request weakly: the request holds it (in the page context), and that cycle would leave
    every request, answered or not, for the garbage collector's slower passes to free.
    """

    def __init__(self, request: web.Request):
        self._request = weakref.ref(request)

    def __str__(self) -> str:
        request = self._request()
        if request is None:
            raise RuntimeError("a CSRF token asked for after its request was finished")
        return token_for(request)

    def __html__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return True
