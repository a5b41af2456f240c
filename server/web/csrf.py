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
from http.cookies import SimpleCookie

import aiohttp_jinja2
from aiohttp import BodyPartReader, MultipartReader, hdrs, web

from server.appkeys import SETTINGS
from server.web.auth import SESSION_COOKIE, request_key, secure_cookies, signed_in
from server.web.csrf_tokens import CSRF_COOKIE, NEW_VISITOR_TOKEN, TOKEN_RENDERED, visitor_token
from server.web.errors import render_error
from server.web.page_context import template_context

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Bodies a page on another site can POST here without a CORS preflight.
FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data", "text/plain"})
TOKEN_BYTES = 128
STREAMED_MULTIPART = request_key("copnet.csrf_multipart", object)  # reader after the token
EXPIRED = "This form has expired, go back and try again."
NO_COOKIES = " Signing in needs cookies: please allow them for this site."
# Links whose signed URL is the proof (RFC 8058 one-click unsubscribe): mail clients POST to
# them without cookies or a token, and a forged POST could only do what the link's owner asked.
TOKEN_LINK_PREFIXES = ("/mail/unsubscribe/",)


async def expected_token(request: web.Request) -> str | None:
    """The token a state-changing request must present; None if it cannot have one."""
    found = await signed_in(request)
    if found is not None:
        return found.web_session.csrf_token
    return visitor_token(request, create=False)


async def submitted_token(request: web.Request) -> str | None:
    """The token the request presents: header, else the form field.

    A token never travels in a URL (it would land in logs, history and Referer headers). A
    multipart form therefore carries it as its first field: the body is stream-parsed up to
    that field only and the reader, positioned after it, is kept for a handler that streams
    (`multipart_reader`), so an upload is never buffered whole; `request.post()` still reads the
    remaining fields. Url-encoded forms are read with `request.post()`, which aiohttp caches.
    """
    header = request.headers.get(HEADER)
    if header:
        return header
    content_type = request.content_type
    if content_type == "multipart/form-data":
        return await _first_multipart_field(request)
    if content_type == "application/x-www-form-urlencoded":
        value = (await request.post()).get(FIELD)
        return value if isinstance(value, str) else None
    return None


async def _first_multipart_field(request: web.Request) -> str | None:
    try:
        reader = await request.multipart()
        part = await reader.next()
    except (ValueError, AssertionError, RuntimeError):
        return None  # not a well-formed multipart body: no token
    if not isinstance(part, BodyPartReader) or part.name != FIELD:
        return None
    value = await part.read(decode=False)
    request[STREAMED_MULTIPART] = reader
    if len(value) > TOKEN_BYTES:
        return None
    return bytes(value).decode("ascii", errors="replace")


async def multipart_reader(request: web.Request) -> MultipartReader:
    """The request's multipart reader: after the CSRF field if the check streamed it."""
    streamed = request.get(STREAMED_MULTIPART)
    if streamed is not None:
        return streamed
    return await request.multipart()


def needs_check(request: web.Request) -> bool:
    """Would a forged copy of this request do harm? (Unsafe method and form-like or cookied.)"""
    if request.method in SAFE_METHODS or request.path.startswith(TOKEN_LINK_PREFIXES):
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
    if request.get(TOKEN_RENDERED) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "private, no-store"
    token = request.get(NEW_VISITOR_TOKEN)
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
