"""CSRF protection for every form.

- Signed-in members: a synchroniser token per session (`WebSession.csrf_token`).
- Visitors (sign-up and sign-in forms): a double-submit cookie `copnet_csrf`, set the first
  time a page renders a token, which the form must echo back.

`csrf_middleware` checks every state-changing request that a browser could send across sites
without a CORS preflight (url-encoded, multipart and text/plain bodies) and every one that
carries our session cookie. ActivityPub deliveries are JSON, carry no cookie, and pass
untouched. Templates write `<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`.
"""

from __future__ import annotations

import hmac
import re
import secrets
from http.cookies import SimpleCookie

import aiohttp_jinja2
from aiohttp import hdrs, web

from server.appkeys import SETTINGS
from server.web.auth import (
    SESSION_COOKIE,
    cached_signed_in,
    request_key,
    secure_cookies,
    signed_in,
    template_context,
)
from server.web.errors import render_error

CSRF_COOKIE = "copnet_csrf"
FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Bodies a page on another site can POST here without a CORS preflight.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
SMALL_MULTIPART_BYTES = 64 * 1024
EXPIRED = "This form has expired, go back and try again."
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
_NEW_COOKIE = request_key("copnet.csrf_new", str)  # a visitor token to set as a cookie
_RENDERED = request_key("copnet.csrf_rendered", bool)  # the page has a token: never cache it
NO_COOKIES = " Signing in needs cookies: please allow them for this site."


def _visitor_token(request: web.Request, *, create: bool) -> str | None:
    new = request.get(_NEW_COOKIE)
    if new:
        return new
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if _TOKEN.fullmatch(cookie):
        return cookie
    if not create:
        return None
    token = secrets.token_urlsafe(32)
    request[_NEW_COOKIE] = token
    return token


def token_for(request: web.Request) -> str:
    """The token this request's forms must carry (creating a visitor's on first use).

    Call after `await signed_in(request)` (the context processor does); before that the
    request is treated as a visitor's.
    """
    request[_RENDERED] = True
    found = cached_signed_in(request)
    if found is not None:
        return found.web_session.csrf_token
    token = _visitor_token(request, create=True)
    assert token is not None
    return token


async def csrf_token(request: web.Request) -> str:
    """token_for, after looking up the session."""
    await signed_in(request)
    return token_for(request)


class LazyCsrfToken:
    """`{{ csrf_token }}` in templates: resolved (and a visitor cookie set) only if rendered.

    Pages without a form therefore never set a cookie, which keeps them cacheable.
    """

    def __init__(self, request: web.Request):
        self._request = request

    def __str__(self) -> str:
        return token_for(self._request)

    def __html__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return True


async def expected_token(request: web.Request) -> str | None:
    """The token a state-changing request must present; None if it cannot have one."""
    found = await signed_in(request)
    if found is not None:
        return found.web_session.csrf_token
    return _visitor_token(request, create=False)


async def submitted_token(request: web.Request) -> str | None:
    """The token the request presents: header, else the form field.

    A multipart upload form puts it in its action's query string instead
    (`action="...?csrf_token={{ csrf_token }}"`) so that its handler can stream the body with
    `request.multipart()`; only small multipart bodies are read here. Url-encoded forms are read
    with `request.post()`, which aiohttp caches for the handler.
    """
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.content_type
    if content_type == "multipart/form-data":
        if FIELD in request.query:
            return request.query[FIELD]
        # Only a small multipart form may be read here: reading a large upload would buffer
        # it (or fail with 413) and leave nothing for a handler that streams it.
        length = request.content_length
        if length is None or length > SMALL_MULTIPART_BYTES:
            return None
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        value = (await request.post()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


def needs_check(request: web.Request) -> bool:
    """Would a forged copy of this request do harm? (Unsafe method and form-like or cookied.)"""
    if request.method in SAFE_METHODS:
        return False
    return request.content_type in FORM_TYPES or SESSION_COOKIE in request.cookies


@web.middleware
async def csrf_middleware(request: web.Request, handler) -> web.StreamResponse:
    """403 page for a form (or cookie-authenticated) request without the right token."""
    if needs_check(request):
        expected = await expected_token(request)
        given = await submitted_token(request)
        if not expected or not given or not hmac.compare_digest(given, expected):
            if aiohttp_jinja2.REQUEST_CONTEXT_KEY not in request:
                # This check runs before the context processors: the page still shows who is
                # signed in.
                request[aiohttp_jinja2.REQUEST_CONTEXT_KEY] = await template_context(request)
            cookieless = not request.cookies
            message = EXPIRED + (NO_COOKIES if cookieless else "")
            return render_error(request, 403, message, title="This form has expired")
    return await handler(request)


async def set_visitor_cookie(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare hook: store a visitor token that a page just rendered.

    A page that carries a token is personal: shared caches must never keep it.
    """
    if request.get(_RENDERED) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "private, no-store"
    token = request.get(_NEW_COOKIE)
    if not token or response.cookies.get(CSRF_COOKIE) is not None:
        return
    # Headers are final by now (aiohttp turned response.cookies into headers before this
    # signal), so the cookie is added as a header.
    jar: SimpleCookie = SimpleCookie()
    jar[CSRF_COOKIE] = token
    morsel = jar[CSRF_COOKIE]
    morsel["path"] = "/"
    morsel["httponly"] = True
    morsel["samesite"] = "Lax"
    if secure_cookies(request.config_dict[SETTINGS]):
        morsel["secure"] = True
    response.headers.add(hdrs.SET_COOKIE, morsel.OutputString())
