"""The website for people: members, sign-in, CSRF, profiles, the admin page, error pages.

`install_web(app)` gives an application built by `server.app.create_app` what every page needs
(middlewares, the template context, the stored-HTML filter, the sign-in and sign-up limiters);
the routes are in `server/routes.py`.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from server.appkeys import (
    ENGINE,
    LIKE_LIMITER,
    LOGIN_LIMITER,
    RESET_ADDRESS_LIMITER,
    RESET_EMAIL_LIMITER,
    SIGNUP_LIMITER,
)
from server.http.ratelimit import LoginRateLimiter, SlidingWindow
from server.http.ratelimit_store import DatabaseHits
from server.services.content import sanitize_remote_html
from server.web.csrf import csrf_middleware, set_visitor_cookie
from server.web.engagement import LIKES_PER_HOUR
from server.web.errors import html_errors
from server.web.page_context import template_context
from server.web.password_reset import RESETS_PER_ADDRESS_HOUR, RESETS_PER_EMAIL_HOUR
from server.web.routes_auth import SIGNUPS_PER_HOUR
from server.web.security_headers import forbid_framing

__all__ = ["install_web"]


def install_web(app: web.Application) -> None:
    """HTML error pages, then the CSRF check, inside the app's `json_errors` middleware; the
    template context; the stored-HTML filter; the limiters."""
    app.middlewares.extend((html_errors, csrf_middleware))
    app.on_response_prepare.extend((set_visitor_cookie, forbid_framing))
    processors = tuple(app.get(aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY, ()))
    app[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY] = (*processors, template_context)
    app.middlewares.append(aiohttp_jinja2.context_processors_middleware)
    # Stored HTML was sanitised when it came in; it is again on the way out, so a path that
    # forgot (or a row written by hand) cannot become a script on our pages.
    aiohttp_jinja2.get_env(app).filters["stored_html"] = sanitize_remote_html
    # Kept in the database, so every web process counts the same attempts.
    shared = DatabaseHits(lambda: app[ENGINE])
    app[LOGIN_LIMITER] = LoginRateLimiter(store=shared)
    app[SIGNUP_LIMITER] = SlidingWindow(SIGNUPS_PER_HOUR, 3600, store=shared, bucket="signup")
    app[LIKE_LIMITER] = SlidingWindow(LIKES_PER_HOUR, 3600, store=shared, bucket="like")
    app[RESET_ADDRESS_LIMITER] = SlidingWindow(
        RESETS_PER_ADDRESS_HOUR, 3600, store=shared, bucket="reset_address"
    )
    app[RESET_EMAIL_LIMITER] = SlidingWindow(
        RESETS_PER_EMAIL_HOUR, 3600, store=shared, bucket="reset_email"
    )
