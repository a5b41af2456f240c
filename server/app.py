"""The aiohttp application factory."""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from server import lifecycle
from server.appkeys import SETTINGS, URLS
from server.http.errors import json_errors
from server.ops.metrics import install_metrics
from server.routes import add_routes
from server.settings import Settings
from server.urls import Urls
from server.web import install_web

TEMPLATES = Path(__file__).parent / "templates"
MAX_REQUEST_BYTES = 1024 * 1024


def create_app(settings: Settings) -> web.Application:
    """Build the copnet web application for the given settings."""
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_REQUEST_BYTES)
    app[SETTINGS] = settings
    app[URLS] = Urls(settings.url)
    environment = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True),
    )
    environment.globals["settings"] = settings
    # First: a metrics port in use stops start-up before the database or workers open.
    install_metrics(app)
    app.cleanup_ctx.append(lifecycle.database)
    app.cleanup_ctx.append(lifecycle.http_client)
    app.cleanup_ctx.append(lifecycle.workers)
    app.on_startup.append(lifecycle.media)
    install_web(app)
    add_routes(app)
    return app
