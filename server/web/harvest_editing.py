"""Changing a harvest page on the web: edit (with conflicts shown, never lost), history, the
side-by-side diff of any two revisions, restore, retire."""

from __future__ import annotations

from aiohttp import web

from models.actors import actors_by_ids
from models.base import utcnow
from models.harvest import HarvestPage
from models.harvest_queries import EditConflict, clean_topic, get_revision, revisions_of
from server.appkeys import SESSIONS, URLS, WRITE_SESSIONS
from server.http.errors import http_error
from server.services.harvest import (
    NotAllowed,
    check_writer,
    edit_page,
    restore_page,
    set_retired,
)
from server.services.harvest_diff import changed_only, side_by_side, wording_lines
from server.web.auth import current_member, require_member
from server.web.harvest import read_wording, render
from server.web.harvest_access import find_page
from server.web.requests import wake_delivery


def _number(raw, what: str) -> int:
    text = str(raw or "")
    if not text.isdigit() or len(text) > 9:
        raise http_error(400, f"{what} must be a revision number")
    return int(text)


async def edit_form(request: web.Request) -> web.Response:
    """GET /h/{id}/edit: the editor, holding the revision it starts from."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        found = await find_page(request, session)
        try:
            await check_writer(session, found.community, member.actor_id, found.page)
        except NotAllowed as refused:
            raise http_error(403, str(refused)) from None
    page = found.page
    form = {"title": page.title, "summary": page.summary, "body": page.body, "topic": page.topic}
    context = {
        "actor": found.group,
        "page": page,
        "form": form,
        "base": page.revision_number,
        "error": "",
        "action": f"/h/{page.id}/edit",
    }
    return render(request, "harvest_edit.html", context)


async def save_edit(request: web.Request) -> web.Response:
    """POST /h/{id}/edit: a new revision, or the editor again with both versions on conflict."""
    member = await require_member(request)
    form = await request.post()
    base = _number(form.get("base_revision"), "base_revision")
    wording, note, problem = read_wording(form)
    async with request.app[WRITE_SESSIONS]() as session:
        found = await find_page(request, session)
        page, page_id = found.page, found.page.id
        context = {"actor": found.group, "page": page, "form": form, "base": base}
        context["action"] = f"/h/{page_id}/edit"
        if problem:
            return render(request, "harvest_edit.html", {**context, "error": problem}, status=400)
        try:
            await edit_page(
                session,
                request.app[URLS],
                community=found.community,
                page=page,
                base=base,
                author_id=member.actor_id,
                wording=wording,
                note=note,
                now=utcnow(),
            )
            page.topic = clean_topic(str(form.get("topic", "")))
            await session.commit()
        except NotAllowed as refused:
            raise http_error(403, str(refused)) from None
        except EditConflict:  # nothing was written; the session closes without a commit
            return await _conflict(request, session, page_id, context, wording)
    wake_delivery(request.app)
    raise web.HTTPSeeOther(f"/h/{page_id}")


async def _conflict(request, session, page_id: int, context: dict, wording) -> web.Response:
    """The editor again: their text kept in the form, the newer revision and the differences
    beside it, and the form now based on that newer revision."""
    page = await session.get(HarvestPage, page_id)
    theirs = await get_revision(session, page.id, page.revision_number)
    authors = await actors_by_ids(session, {theirs.author_id} if theirs.author_id else set())
    rows = side_by_side(
        wording_lines(page.title, page.summary, page.body),
        wording_lines(wording.title, wording.summary, wording.body),
    )
    context.update(
        page=page,
        base=page.revision_number,
        error=(
            f"Someone saved revision {page.revision_number} while you were editing. Your text "
            "is still in the form below; compare it with theirs, merge what you need, then save."
        ),
        conflict=theirs,
        conflict_author=authors.get(theirs.author_id),
        conflict_rows=rows,
    )
    return render(request, "harvest_edit.html", context, status=409)


async def history(request: web.Request) -> web.Response:
    """GET /h/{id}/history: every revision, with its author, time and note."""
    member = await current_member(request)
    async with request.app[SESSIONS]() as session:
        found = await find_page(request, session)
        revisions = await revisions_of(session, found.page.id)
        authors = await actors_by_ids(session, {r.author_id for r in revisions if r.author_id})
        may_restore = member is not None
        if may_restore:
            try:
                await check_writer(session, found.community, member.actor_id, found.page)
            except NotAllowed:
                may_restore = False
    context = {
        "actor": found.group,
        "page": found.page,
        "revisions": revisions,
        "authors": authors,
        "may_restore": may_restore,
    }
    return render(request, "harvest_history.html", context)


async def diff(request: web.Request) -> web.Response:
    """GET /h/{id}/diff?from=A&to=B: two revisions side by side."""
    old_number = _number(request.query.get("from"), "from")
    new_number = _number(request.query.get("to"), "to")
    async with request.app[SESSIONS]() as session:
        found = await find_page(request, session)
        old = await get_revision(session, found.page.id, old_number)
        new = await get_revision(session, found.page.id, new_number)
        if old is None or new is None:
            missing = old_number if old is None else new_number
            raise http_error(404, f"page {found.page.id} has no revision {missing}")
        authors = await actors_by_ids(session, {r.author_id for r in (old, new) if r.author_id})
    rows = side_by_side(
        wording_lines(old.title, old.summary, old.body),
        wording_lines(new.title, new.summary, new.body),
    )
    context = {
        "actor": found.group,
        "page": found.page,
        "old": old,
        "new": new,
        "authors": authors,
        "rows": rows if request.query.get("full") == "1" else changed_only(rows),
        "identical": all(row.kind == "same" for row in rows),
    }
    return render(request, "harvest_diff.html", context)


async def restore(request: web.Request) -> web.Response:
    """POST /h/{id}/restore: a new revision that says what an older one said."""
    member = await require_member(request)
    form = await request.post()
    number = _number(form.get("revision"), "revision")
    base = _number(form.get("base_revision"), "base_revision")
    async with request.app[WRITE_SESSIONS]() as session:
        found = await find_page(request, session)
        try:
            await restore_page(
                session,
                request.app[URLS],
                community=found.community,
                page=found.page,
                number=number,
                base=base,
                author_id=member.actor_id,
                now=utcnow(),
            )
            await session.commit()
        except NotAllowed as refused:
            raise http_error(403, str(refused)) from None
        except LookupError:
            raise http_error(404, f"page {found.page.id} has no revision {number}") from None
        except EditConflict as conflict:
            raise http_error(
                409,
                f"the page changed (now revision {conflict.current}) since you opened its "
                "history; look again before restoring",
            ) from None
    wake_delivery(request.app)
    raise web.HTTPSeeOther(f"/h/{found.page.id}")


async def retire_or_reinstate(request: web.Request) -> web.Response:
    """POST /h/{id}/retire: mark a page out of date (`action=retire`) or back in use."""
    member = await require_member(request)
    form = await request.post()
    action = str(form.get("action", ""))
    if action not in ("retire", "reinstate"):
        raise http_error(400, "action must be retire or reinstate")
    async with request.app[WRITE_SESSIONS].begin() as session:
        found = await find_page(request, session)
        try:
            await set_retired(
                session,
                request.app[URLS],
                community=found.community,
                page=found.page,
                retired=action == "retire",
                author_id=member.actor_id,
                now=utcnow(),
            )
        except NotAllowed as refused:
            raise http_error(403, str(refused)) from None
    wake_delivery(request.app)
    raise web.HTTPSeeOther(f"/h/{found.page.id}")
