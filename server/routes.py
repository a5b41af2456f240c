"""URL map of the whole application."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from server.ops.health import add_health_routes
from server.views import actors, discovery, inbox, threads
from server.web import setup_web
from server.web.basecamps import add_basecamp_routes
from server.web.communities import add_community_routes, home
from server.web.community_settings import add_community_settings_routes
from server.web.document_removal import add_document_removal_routes
from server.web.moderation import add_moderation_routes
from server.web.post_actions import add_post_action_routes
from server.web.routes_documents import add_document_routes
from server.web.search import add_search_routes

STATIC = Path(__file__).parent / "static"


def add_routes(app: web.Application) -> None:
    """Register every route on the application."""
    add_health_routes(app)
    app.router.add_get("/", home, name="home")
    app.router.add_get("/.well-known/webfinger", discovery.webfinger)
    app.router.add_get("/.well-known/host-meta", discovery.host_meta)
    app.router.add_get("/.well-known/host-meta.json", discovery.host_meta_json)
    app.router.add_get("/.well-known/nodeinfo", discovery.nodeinfo_index)
    app.router.add_get("/nodeinfo/{version}", discovery.nodeinfo)
    app.router.add_get("/actor", actors.instance_actor)
    app.router.add_get("/actor/outbox", actors.instance_outbox)
    app.router.add_get("/c/{name}", actors.community_actor, name="community")
    app.router.add_get("/c/{name}/icon.png", actors.community_icon)
    app.router.add_get("/c/{name}/outbox", actors.community_outbox)
    app.router.add_get("/c/{name}/followers", actors.community_followers)
    app.router.add_get("/c/{name}/featured", actors.community_featured)
    app.router.add_get("/c/{name}/moderators", actors.community_moderators)
    app.router.add_post("/inbox", inbox.shared_inbox)
    app.router.add_post("/c/{name}/inbox", inbox.community_inbox)
    app.router.add_get("/t/{id}", threads.thread_page, name="thread")
    app.router.add_get("/t/{id}/context", threads.thread_context)
    app.router.add_post("/u/{name}/inbox", inbox.person_inbox)
    app.router.add_get("/p/{id}", threads.local_post)
    app.router.add_get("/p/{id}/replies", threads.post_replies)
    app.router.add_get("/activities/{key}", threads.sent_activity)
    setup_web(app)
    add_community_routes(app)
    add_post_action_routes(app)
    add_community_settings_routes(app)
    add_moderation_routes(app)
    add_document_routes(app)
    add_document_removal_routes(app)
    add_search_routes(app)
    add_basecamp_routes(app)
    app.router.add_static("/static/", STATIC, name="static")
