"""Error pages for people: the same errors the API answers in JSON, as HTML for browsers."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Mapping
from http import HTTPStatus

import aiohttp_jinja2
from aiohttp import web

from server.appkeys import SETTINGS
from server.http.negotiation import choose_representation
from server.web.requests import sentence

log = logging.getLogger(__name__)

# Headers of an error response that still matter on its HTML form.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")
_TITLES = {
    400: "Something in that request was not right",
    403: "You cannot do that here",
    404: "Page not found",
    405: "That is not possible on this page",
    413: "That was too large",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}


def prefers_html(request: web.Request) -> bool:
    """True when the client asks for HTML ahead of JSON: a browser, not a fediverse server.

    `*/*` alone (curl, most libraries) keeps JSON; so does any malformed Accept header.
    """
    accept = request.headers.get("Accept", "")
    if "text/html" not in accept.lower():
        return False
    try:
        return choose_representation(accept, default="as2") == "html"
    except web.HTTPException:
        return False


def render_error(
    request: web.Request,
    status: int,
    message: str,
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> web.Response:
    """An HTML error page (error.html inside the site layout) with the given status.

    Never raises: if the template cannot be rendered, a bare page says the same thing.
    """
    heading = title or _TITLES.get(status) or _phrase(status)
    try:
        settings = request.config_dict[SETTINGS]
        body = aiohttp_jinja2.render_string(
            "error.html",
            request,
            {"settings": settings, "status": status, "title": heading, "message": message},
        )
    except Exception:
        log.exception("could not render the error page for %s", request.path)
        body = (
            "<!doctype html><html lang=en><meta charset=utf-8>"
            f"<title>{html.escape(heading)}</title><h1>{html.escape(heading)}</h1>"
            f"<p>{html.escape(message)}</p><p><a href=/>Home</a></p></html>"
        )
    response = web.Response(text=body, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def message_of(exc: web.HTTPException) -> str:
    """The human reason carried by an HTTP error, whether its body is JSON or text."""
    text = exc.text or ""
    if exc.content_type == "application/json":
        try:
            reason = json.loads(text).get("error")
        except (ValueError, AttributeError):
            reason = None
        if isinstance(reason, str) and reason:
            return sentence(reason)
    if text and text != exc.reason and not text.startswith(f"{exc.status_code}:"):
        return sentence(text)
    if exc.status_code == 404:
        return "There is nothing at this address. It may have moved, or the link may be wrong."
    return sentence(exc.reason or _phrase(exc.status_code))


def html_error_response(request: web.Request, exc: web.HTTPException) -> web.Response | None:
    """The HTML page for an HTTP error when a browser asked; None to keep the JSON error."""
    if exc.status_code < 400 or not prefers_html(request):
        return None
    if exc.content_type == "text/html" and exc.text:
        page = web.Response(text=exc.text, status=exc.status_code, content_type="text/html")
    else:
        page = render_error(request, exc.status_code, message_of(exc))
    for name in _KEPT_HEADERS:
        if name in exc.headers:
            page.headers[name] = exc.headers[name]
    return page


@web.middleware
async def html_errors(request: web.Request, handler) -> web.StreamResponse:
    """Browsers get an HTML error page; everyone else the JSON error (server.http.errors).

    Sits inside `json_errors`: the page is returned, not raised, so it passes through as is.
    """
    try:
        return await handler(request)
    except web.HTTPException as exc:
        page = html_error_response(request, exc)
        if page is None:
            raise
        return page
    except Exception:
        if not prefers_html(request):
            raise
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(
            request, 500, "Please try again in a moment. If it keeps happening, tell an admin."
        )


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
