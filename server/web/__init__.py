"""The website for people: members, sign-in, CSRF, profiles, the admin page, error pages.

`setup_web(app)` wires all of it into an application built by `server.app.create_app`; it is
idempotent, so wiring it in create_app and calling it again (tests do) is harmless.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from server.services.content import sanitize_remote_html
from server.web.account_settings import add_account_routes
from server.web.admin import add_admin_routes
from server.web.csrf import csrf_middleware, set_visitor_cookie
from server.web.errors import html_errors
from server.web.page_context import template_context
from server.web.people import add_people_routes
from server.web.routes_auth import add_auth_routes
from server.web.security_headers import forbid_framing

__all__ = ["install_middlewares", "setup_web"]


def install_middlewares(app: web.Application) -> None:
    """HTML error pages, then the CSRF check, inside the app's `json_errors` middleware."""
    for middleware in (html_errors, csrf_middleware):
        if middleware not in app.middlewares:
            app.middlewares.append(middleware)
    for hook in (set_visitor_cookie, forbid_framing):
        if hook not in app.on_response_prepare:
            app.on_response_prepare.append(hook)
    processors = tuple(app.get(aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY, ()))
    if template_context not in processors:
        app[aiohttp_jinja2.APP_CONTEXT_PROCESSORS_KEY] = (*processors, template_context)
    if aiohttp_jinja2.context_processors_middleware not in app.middlewares:
        app.middlewares.append(aiohttp_jinja2.context_processors_middleware)


def setup_web(app: web.Application) -> None:
    """Middlewares, the template context processor and every route of the website."""
    install_middlewares(app)
    # Stored HTML was sanitised when it came in; it is again on the way out, so a path that
    # forgot (or a row written by hand) cannot become a script on our pages.
    aiohttp_jinja2.get_env(app).filters["stored_html"] = sanitize_remote_html
    add_auth_routes(app)
    add_account_routes(app)
    add_people_routes(app)
    add_admin_routes(app)
