"""Harvest from a conversation on the web: under any post a member chooses "Harvest", picks
posts of the thread (or a passage of one) and a new or existing page of a CoP they write for."""

from __future__ import annotations

from aiohttp import web

from models.actors import actors_by_ids
from models.base import utcnow
from models.communities import Community, get_community
from models.directory import groups_of
from models.harvest import HarvestPage
from models.harvest_queries import list_pages
from models.posts import Post, thread_posts
from server.appkeys import SESSIONS, SETTINGS, URLS, WRITE_SESSIONS
from server.http.errors import http_error
from server.services.harvest import NotAllowed, may_write
from server.services.harvesting import HarvestRefused, Target, harvest
from server.web.auth import Member, require_member
from server.web.harvest import render
from server.web.harvest_access import may_read_community
from server.web.requests import path_id, sentence, wake_delivery

THREAD_LIMIT = 300
PAGES_SHOWN = 200


async def _visible_post(request: web.Request, session, post_id: int) -> Post | None:
    post = await session.get(Post, post_id)
    if post is None or post.is_deleted or post.is_removed:
        return None
    community = await session.get(Community, post.community_id)
    return post if await may_read_community(request, session, community) else None


async def _writable_communities(session, member: Member) -> list[Community]:
    found = []
    for group, state in await groups_of(session, member.actor_id):
        if state != "accepted" or group.ap_id is not None:
            continue
        community = await session.get(Community, group.id)
        if community is not None and await may_write(session, community, member.actor_id):
            found.append(community)
    return found


async def _form(request, member: Member, *, form=None, error: str = "", status: int = 200):
    post_id = path_id(request, "id", "post")
    async with request.app[SESSIONS]() as session:
        post = await _visible_post(request, session, post_id)
        if post is None:
            raise http_error(404, f"no post {post_id} you can see")
        root_id = post.thread_id or post.id
        posts = [
            item
            for item in await thread_posts(session, root_id, limit=THREAD_LIMIT)
            if not (item.is_deleted or item.is_removed)
        ]
        authors = await actors_by_ids(session, {item.author_id for item in posts})
        communities = await _writable_communities(session, member)
        pages = (
            await list_pages(
                session,
                community_ids=[c.actor_id for c in communities],
                limit=PAGES_SHOWN,
                include_retired=False,
            )
        ).pages
    chosen = set(form.getall("post", [])) if form is not None else {str(post.id)}
    context = {
        "post": post,
        "posts": posts,
        "authors": authors,
        "communities": communities,
        "pages": pages,
        "chosen": chosen,
        "form": form or {},
        "error": error,
        "default_cop": post.community_id,
    }
    return render(request, "harvest_pick.html", context, status=status)


async def harvest_form(request: web.Request) -> web.Response:
    """GET /p/{id}/harvest: choose what to harvest from this post's thread, and where to."""
    member = await require_member(request)
    return await _form(request, member)


def _ids(values: list[str]) -> list[int]:
    if any(not value.isdigit() or len(value) > 18 for value in values):
        raise HarvestRefused("the chosen posts are not post numbers")
    return sorted({int(value) for value in values})


async def _target(session, form) -> Target:
    page_raw = str(form.get("page_id", "")).strip()
    if page_raw:
        if not page_raw.isdigit() or len(page_raw) > 18:
            raise HarvestRefused("choose a page from the list")
        page = await session.get(HarvestPage, int(page_raw))
        community = await session.get(Community, page.community_id) if page else None
        if page is None or community is None:
            raise HarvestRefused("that page is not one of this Network's pages", status=404)
        return Target(community=community, page=page)
    community = await get_community(session, str(form.get("community", "")))
    if community is None:
        raise HarvestRefused("choose the community the new page belongs to")
    return Target(community=community, new_title=str(form.get("new_title", "")))


async def harvest_posts(request: web.Request) -> web.Response:
    """POST /p/{id}/harvest: quote the chosen posts into the chosen page."""
    member = await require_member(request)
    form = await request.post()
    post_id = path_id(request, "id", "post")
    try:
        async with request.app[WRITE_SESSIONS].begin() as session:
            anchor = await _visible_post(request, session, post_id)
            if anchor is None:
                raise http_error(404, f"no post {post_id} you can see")
            root_id = anchor.thread_id or anchor.id
            posts = []
            for chosen_id in _ids(form.getall("post", [])):
                post = await _visible_post(request, session, chosen_id)
                if post is None:
                    raise HarvestRefused(f"you cannot see post {chosen_id}", status=403)
                if (post.thread_id or post.id) != root_id:
                    raise HarvestRefused(f"post {chosen_id} is not in this conversation")
                posts.append(post)
            page = await harvest(
                session,
                request.app[URLS],
                harvester_id=member.actor_id,
                posts=posts,
                passage=str(form.get("passage", "")),
                target=await _target(session, form),
                local_domain=request.app[SETTINGS].domain,
                now=utcnow(),
            )
            page_id = page.id
    except HarvestRefused as refused:
        return await _form(
            request, member, form=form, error=sentence(str(refused)), status=refused.status
        )
    except NotAllowed as refused:
        return await _form(request, member, form=form, error=sentence(str(refused)), status=403)
    wake_delivery(request.app)
    raise web.HTTPSeeOther(f"/h/{page_id}")
