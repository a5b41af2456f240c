"""The Network on the web: directory, CoP pages, starting CoPs, joining, threads and replies."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from federation.actors import InvalidActor
from federation.fetch import FetchError
from federation.webfinger import HandleError, resolve_handle
from models.actors import Actor, InvalidName, NameTaken
from models.base import utcnow
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
from models.policy import SiteSetting
from models.posts import Post
from models.watching import is_subscribed
from server.appkeys import DELIVERY, FETCHER, REMOTE, SESSIONS, SETTINGS, URLS, WRITE_SESSIONS
from server.peers.policy import DomainBlocked
from server.peers.remote import LocalActorNotFound
from server.services.markdown import render_markdown
from server.services.membership import join, leave
from server.services.moderation_rules import banned_reason, closed_thread_reason
from server.services.network_actor import announce_new_community, network_actor
from server.services.posts import publish_post
from server.services.private_cops import ask_to_join
from server.web.auth import current_member, require_member
from server.web.basecamp_panel import basecamp_panel
from server.web.community_access import visible_community
from server.web.confirm import ask_first
from server.web.feeds import page_feed
from server.web.form_limits import limited_field
from server.web.mention_lookup import mentions_in, reply_mentions
from server.web.private_access import may_read
from server.web.requests import list_page, wake_workers

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


async def join_community(request: web.Request) -> web.Response:
    """Join a CoP from its page."""
    member = await require_member(request)
    name = request.match_info["name"]
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        refused = await banned_reason(session, community.actor_id, member.actor_id, utcnow())
        if refused is not None:
            raise web.HTTPForbidden(text=f"You are {refused}.")
        actor = await session.get(Actor, member.actor_id)
        if community.manually_approves_followers:
            await ask_to_join(session, community, actor, now=utcnow())
        else:
            await join(session, request.app[URLS], actor, community.actor)
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/c/{name}")


async def leave_community(request: web.Request) -> web.Response:
    """Leave a CoP (after a confirmation step)."""
    member = await require_member(request)
    name = request.match_info["name"]
    question = await ask_first(
        request,
        question="Leave this community?",
        detail="You will no longer be able to start threads or reply here. "
        "What you wrote stays. You can join again at any time.",
        action="Yes, leave",
        back=f"/c/{name}",
    )
    if question is not None:
        return question
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        actor = await session.get(Actor, member.actor_id)
        await leave(session, request.app[URLS], actor, community.actor)
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther(f"/c/{name}")


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
                approval = await session.get(SiteSetting, "communities.creation")
                pending = approval is not None and approval.value == "approval"
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


async def start_thread(request: web.Request) -> web.Response:
    """A member starts a thread in a CoP they belong to."""
    member = await require_member(request)
    name = request.match_info["name"]
    form = await request.post()
    title = limited_field(form, "title", TITLE_LIMIT, "title")
    body = limited_field(form, "body", BODY_LIMIT, "post")
    if not title or not body:
        raise web.HTTPBadRequest(text="A thread needs a title and some words.")
    mentions = await mentions_in(request, body)
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        await _require_membership(session, member.actor_id, community)
        post = await publish_post(
            session,
            request.app[URLS],
            author=await session.get(Actor, member.actor_id),
            group=community.actor,
            community=community,
            title=title,
            body_markdown=body,
            parent=None,
            now=utcnow(),
            mentions=mentions,
        )
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/t/{post.id}")


async def reply(request: web.Request) -> web.Response:
    """A member replies to any post of a thread."""
    member = await require_member(request)
    form = await request.post()
    body = limited_field(form, "body", BODY_LIMIT, "reply")
    parent_id = str(form.get("parent", ""))
    if not body or not parent_id.isdigit():
        raise web.HTTPBadRequest(text="A reply needs some words.")
    mentions = await reply_mentions(request, int(parent_id), body)
    async with request.app[WRITE_SESSIONS].begin() as session:
        parent = await session.get(Post, int(parent_id))
        if parent is None or (parent.thread_id or parent.id) != int(request.match_info["id"]):
            raise web.HTTPNotFound(text="That post is not in this thread.")
        community = await session.get(Community, parent.community_id)
        group = await session.get(Actor, parent.community_id)
        if community is not None:
            await _require_membership(session, member.actor_id, community)
        closed = await closed_thread_reason(session, parent)
        if closed is not None:
            raise web.HTTPForbidden(text=f"No replies: {closed}.")
        post = await publish_post(
            session,
            request.app[URLS],
            author=await session.get(Actor, member.actor_id),
            group=group,
            community=community,
            title="",
            body_markdown=body,
            parent=parent,
            now=utcnow(),
            mentions=mentions,
        )
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/t/{post.thread_id}#post-{post.id}")


async def share_thread(request: web.Request) -> web.Response:
    """Share a thread into another CoP: a new thread there that links back."""
    member = await require_member(request)
    form = await request.post()
    target_name = str(form.get("community", ""))
    note = limited_field(form, "note", BODY_LIMIT, "note")
    urls = request.app[URLS]
    async with request.app[WRITE_SESSIONS].begin() as session:
        original = await session.get(Post, int(request.match_info["id"]))
        if original is None or original.thread_id is not None:
            raise web.HTTPNotFound(text="No such thread.")
        target = await visible_community(request, session, target_name)
        await _require_membership(session, member.actor_id, target)
        source_group = await session.get(Actor, original.community_id)
        link = urls.thread(original.id)
        source_name = source_group.display_name or source_group.username
        body = (
            f"{note}\n\n" if note else ""
        ) + f"Shared from {source_name}: [{original.title}]({link})"
        post = await publish_post(
            session,
            urls,
            author=await session.get(Actor, member.actor_id),
            group=target.actor,
            community=target,
            title=original.title,
            body_markdown=body,
            parent=None,
            now=utcnow(),
        )
        post.shared_from_id = original.id
    wake_workers(request.app)
    raise web.HTTPSeeOther(f"/t/{post.id}")


async def join_remote_community(request: web.Request) -> web.Response:
    """Join a CoP on another Network by its address (@name@host) or URL."""
    member = await require_member(request)
    form = await request.post()
    address = str(form.get("address", "")).strip()
    settings = request.app[SETTINGS]
    try:
        if address.startswith(("https://", "http://")):
            actor_url = address
        else:
            # Plain http only where loopback peers are allowed (development and tests).
            schemes = ("https", "http") if settings.allow_private_addresses else ("https",)
            actor_url = await resolve_handle(request.app[FETCHER], address, schemes=schemes)
        group = await request.app[REMOTE].get(actor_url)
    except (HandleError, FetchError, InvalidActor, DomainBlocked, LocalActorNotFound) as error:
        raise web.HTTPBadRequest(text=f"Could not find that community: {error}") from None
    if group.type != "Group":
        raise web.HTTPBadRequest(text=f"{address} is not a community (it is a {group.type}).")
    if group.is_local:
        raise web.HTTPSeeOther(f"/c/{group.local_name}")
    async with request.app[WRITE_SESSIONS].begin() as session:
        actor = await session.get(Actor, member.actor_id)
        await join(session, request.app[URLS], actor, await session.get(Actor, group.id))
    request.app[DELIVERY].wake()
    raise web.HTTPSeeOther("/")


async def _require_membership(session, member_id: int, community: Community) -> None:
    refused = await banned_reason(session, community.actor_id, member_id, utcnow())
    if refused is not None:
        raise web.HTTPForbidden(text=f"You are {refused}.")
    if await membership_state(session, member_id, community.actor_id) != "accepted":
        raise web.HTTPForbidden(text="Join this community first.")
