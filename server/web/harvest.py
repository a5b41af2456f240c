"""A CoP's Harvest tab: its knowledge pages listed, a new page, one page to read or print."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from models.actors import actors_by_ids
from models.base import utcnow
from models.harvest_queries import Wording, clean_topic, editor_ids, list_pages
from models.harvest_sources import sources_of
from server.appkeys import SESSIONS, SETTINGS, URLS, WRITE_SESSIONS
from server.http.errors import http_error
from server.http.negotiation import choose_representation
from server.http.responses import activity_json
from server.services.harvest import NotAllowed, may_write, start_page
from server.services.harvest_federation import page_article
from server.services.harvest_render import render_page_cached
from server.web.auth import current_member, require_member
from server.web.community_access import visible_community
from server.web.harvest_access import FoundPage, find_page, may_read_community
from server.web.requests import list_page, sentence, wake_delivery

TITLE_LIMIT = 200
SUMMARY_LIMIT = 2_000
BODY_LIMIT = 100_000
NOTE_LIMIT = 500
LIST_PAGE_SIZE = 30


def render(request: web.Request, template: str, context: dict, *, status: int = 200):
    """A harvest template with the settings; varies by cookie (members see edit links)."""
    context = {"settings": request.app[SETTINGS], **context}
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Vary"] = "Accept, Cookie"
    return response


def read_wording(form) -> tuple[Wording, str, str]:
    """(wording, edit note, problem) from a page form; the problem is '' when all is well."""
    wording = Wording(
        title=str(form.get("title", "")),
        summary=str(form.get("summary", "")),
        body=str(form.get("body", "")),
    )
    note = str(form.get("note", "")).strip()
    problem = ""
    if not wording.title.strip():
        problem = "give the page a title"
    elif len(wording.title) > TITLE_LIMIT:
        problem = f"a title can be at most {TITLE_LIMIT} characters long"
    elif len(wording.summary) > SUMMARY_LIMIT:
        problem = f"a summary can be at most {SUMMARY_LIMIT:,} characters long"
    elif len(wording.body) > BODY_LIMIT:
        problem = f"a page can be at most {BODY_LIMIT:,} characters long"
    elif len(note) > NOTE_LIMIT:
        problem = f"an edit note can be at most {NOTE_LIMIT} characters long"
    return wording, note, sentence(problem)


async def community_harvest(request: web.Request) -> web.Response:
    """GET /c/{name}/harvest: the CoP's pages, most recently updated first."""
    name = request.match_info["name"]
    page_number = list_page(request)
    member = await current_member(request)
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, name)
        if not await may_read_community(request, session, community):
            raise http_error(404, f"no community named {name!r}")
        found = await list_pages(
            session,
            community_ids=[community.actor_id],
            limit=LIST_PAGE_SIZE,
            offset=(page_number - 1) * LIST_PAGE_SIZE,
        )
        writer = member is not None and await may_write(session, community, member.actor_id)
    context = {
        "community": community,
        "actor": community.actor,
        "pages": found.pages,
        "total": found.total,
        "page": page_number,
        "last_page": max(1, -(-found.total // LIST_PAGE_SIZE)),
        "may_write": writer,
    }
    return render(request, "harvest_list.html", context)


async def new_page_form(request: web.Request, *, form=None, error: str = "", status: int = 200):
    """GET /c/{name}/harvest/new: the editor for a new page."""
    name = request.match_info["name"]
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, name)
        if not await may_write(session, community, member.actor_id):
            raise http_error(403, "only members of this community may write its harvest pages")
    context = {
        "actor": community.actor,
        "form": form or {},
        "error": error,
        "action": f"/c/{name}/harvest/new",
        "page": None,
    }
    return render(request, "harvest_edit.html", context, status=status)


async def create_page_from_web(request: web.Request) -> web.Response:
    """POST /c/{name}/harvest/new: a member starts a page."""
    name = request.match_info["name"]
    member = await require_member(request)
    form = await request.post()
    wording, note, problem = read_wording(form)
    if problem:
        return await new_page_form(request, form=form, error=problem, status=400)
    async with request.app[WRITE_SESSIONS].begin() as session:
        community = await visible_community(request, session, name)
        try:
            page = await start_page(
                session,
                request.app[URLS],
                community=community,
                author_id=member.actor_id,
                wording=wording,
                note=note or "Started the page",
                now=utcnow(),
            )
        except NotAllowed as refused:
            raise http_error(403, str(refused)) from None
        page.topic = clean_topic(str(form.get("topic", "")))
    wake_delivery(request.app)
    raise web.HTTPSeeOther(f"/h/{page.id}")


async def page_context(session, found: FoundPage) -> dict:
    """What the page and its printable view show."""
    sources = await sources_of(session, found.page.id)
    editors = await actors_by_ids(session, set(await editor_ids(session, found.page.id)))
    return {
        "page": found.page,
        "actor": found.group,
        "body_html": render_page_cached(found.page, sources),
        "sources": sources,
        "editors": list(editors.values()),
    }


async def page_view(request: web.Request) -> web.StreamResponse:
    """GET /h/{id}: a harvest page with its sources and editors; its Article for AS2 clients."""
    as2 = choose_representation(request.headers.get("Accept")) == "as2"
    member = None if as2 else await current_member(request)
    async with request.app[SESSIONS]() as session:
        found = await find_page(request, session)
        if as2:
            if found.page.ap_id is not None:
                raise web.HTTPFound(found.page.ap_id)  # archived: its origin is canonical
            return activity_json(await page_article(session, request.app[URLS], found.page))
        context = await page_context(session, found)
        context["may_write"] = (
            member is not None
            and found.page.ap_id is None
            and await may_write(session, found.community, member.actor_id)
        )
    return render(request, "harvest_page.html", context)


async def print_view(request: web.Request) -> web.StreamResponse:
    """GET /h/{id}/print: the page alone, laid out for paper."""
    async with request.app[SESSIONS]() as session:
        found = await find_page(request, session)
        context = await page_context(session, found)
    context["printed_at"] = utcnow()
    return render(request, "harvest_print.html", context)
