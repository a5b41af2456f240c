"""The Network on the web: the front page, each CoP's page, and starting a CoP.

Joining and leaving are in server.web.community_membership, threads and replies in
server.web.thread_posting.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from models import site_modes
from models.actors import Actor, InvalidName, NameTaken
from models.communities import (
    Community,
    CommunityModerator,
    TitleTaken,
    anyone_may_read,
    create_community,
)
from models.communities import moderators as list_moderators
from models.directory import directory, groups_of, member_count, membership_state, thread_list
from models.document_queries import recent_documents
from models.harvest_queries import list_pages
from models.watching import is_subscribed
from server.appkeys import SESSIONS, SETTINGS, URLS, WRITE_SESSIONS
from server.services.markdown import render_markdown
from server.services.membership import join
from server.services.network_actor import announce_new_community, network_actor
from server.web.auth import current_member, require_member
from server.web.basecamp_panel import basecamp_panel
from server.web.feeds import page_feed
from server.web.form_limits import limited_field
from server.web.private_access import may_read
from server.web.requests import list_page

THREADS_PER_PAGE = 20
TITLE_LIMIT = 200
BODY_LIMIT = 20_000

MODERATORS_SHOWN = 100
RECENT_DOCUMENTS = 5


async def home(request: web.Request) -> web.Response:
    """The Network's front page: every CoP, and what is being discussed across them."""
    member = await current_member(request)
    async with request.app[SESSIONS]() as session:
        network = await network_actor(session)
        entries = [
            entry
            for entry in await directory(session)
            if network is None or entry.community.actor_id != network.actor_id
        ]
        _total, recent = await thread_list(session, community_id=None, limit=8)
        mine = await groups_of(session, member.actor_id) if member else []
        basecamps = await basecamp_panel(session)
    context = {
        "entries": entries,
        "recent": recent,
        "mine": mine,
        "basecamps": basecamps,
        "network": network,
        "feeds": [
            page_feed("New threads in the Network", request.app[URLS].network_feed()),
            page_feed("Basecamps", request.app[URLS].basecamps_feed()),
        ],
    }
    return aiohttp_jinja2.render_template("home.html", request, context)


async def community_page(request: web.Request, community: Community) -> web.Response:
    """A CoP for people: about, members, threads newest-activity first, documents."""
    member = await current_member(request)
    page = list_page(request)
    async with request.app[SESSIONS]() as session:
        readable = await may_read(request, session, community)
        total, threads = await thread_list(
            session,
            community_id=community.actor_id,
            limit=THREADS_PER_PAGE,
            offset=(page - 1) * THREADS_PER_PAGE,
        )
        members = await member_count(session, community.actor_id)
        state = (
            await membership_state(session, member.actor_id, community.actor_id) if member else None
        )
        following = member is not None and await is_subscribed(
            session, member.actor_id, community.actor_id
        )
        moderators = (await list_moderators(session, community, limit=MODERATORS_SHOWN)).actors
        basecamps = await basecamp_panel(session, community=community)
        documents = await recent_documents(session, community.actor_id, limit=RECENT_DOCUMENTS)
        harvest = await list_pages(
            session,
            community_ids=[community.actor_id],
            limit=RECENT_DOCUMENTS,
            include_retired=False,
        )
    if not readable:  # a private CoP shows strangers what it is about, nothing more
        total, threads, documents, basecamps = 0, [], [], None
        harvest = None
    settings = request.app[SETTINGS]
    context = {
        "community": community,
        "actor": community.actor,
        "handle": f"@{community.actor.local_name}@{settings.domain}",
        "moderators": moderators,
        "members": members,
        "membership": state,
        "following": following,
        "threads": threads,
        "total_threads": total,
        "page": page,
        "pages": max(1, -(-total // THREADS_PER_PAGE)),
        "documents": documents,
        "harvest": harvest.pages if harvest else [],
        "basecamps": basecamps,
        "feeds": _community_feeds(request, community),
    }
    response = aiohttp_jinja2.render_template("community.html", request, context)
    response.headers["Vary"] = "Accept"
    return response


def _community_feeds(request: web.Request, community: Community) -> list[dict[str, str]]:
    """A CoP's feed is announced only where anyone may read it (never for a private CoP)."""
    if not anyone_may_read(community):
        return []
    name = community.actor.local_name or ""
    title = f"New threads in {community.actor.display_name or name}"
    return [page_feed(title, request.app[URLS].community_feed(name))]


async def new_community_form(request: web.Request) -> web.Response:
    """The form to start a CoP."""
    await require_member(request)
    return aiohttp_jinja2.render_template("community_new.html", request, {"errors": {}, "form": {}})


async def create_community_from_web(request: web.Request) -> web.Response:
    """Start a CoP; its founder becomes its first moderator (and member)."""
    member = await require_member(request)
    form = await request.post()
    name = str(form.get("name", "")).strip().lower()
    title = limited_field(form, "title", TITLE_LIMIT, "community's name")
    summary = limited_field(form, "summary", BODY_LIMIT, "description")
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Give your community a name people will recognise."
    if not errors:
        try:
            async with request.app[WRITE_SESSIONS].begin() as session:
                pending = await site_modes.get_cop_creation(session) == "approval"
                community = await create_community(
                    session,
                    name,
                    title=title,
                    summary_source=summary,
                    summary_html=render_markdown(summary),
                )
                community.status = "pending" if pending and not member.is_admin else "active"
                session.add(
                    CommunityModerator(community_id=community.actor_id, actor_id=member.actor_id)
                )
                founder = await session.get(Actor, member.actor_id)
                await join(session, request.app[URLS], founder, community.actor)
                if community.status == "active":
                    await announce_new_community(session, request.app[URLS], community)
        except TitleTaken:
            errors["title"] = (
                "A community already has this name. Choose another, so people can tell them apart."
            )
        except (InvalidName, NameTaken) as error:
            errors["name"] = str(error)
    if errors:
        context = {"errors": errors, "form": {"name": name, "title": title, "summary": summary}}
        return aiohttp_jinja2.render_template("community_new.html", request, context, status=400)
    raise web.HTTPSeeOther(f"/c/{name}")
