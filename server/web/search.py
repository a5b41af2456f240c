"""The search page: Network-wide at /search, one CoP at /c/{name}/search."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import aiohttp_jinja2
from aiohttp import web
from yarl import URL

from models.communities import list_communities
from models.search import KINDS, MAX_CANDIDATES, search
from models.text_analysis import MAX_QUERY_CHARS
from server.appkeys import SESSIONS, SETTINGS
from server.http.errors import http_error
from server.web.private_access import may_read

PAGE_SIZE = 20
CANDIDATES = MAX_CANDIDATES  # a search ranks at most this many (newest) matches
KIND_LABELS = {
    "page": "Harvest pages",
    "thread": "Threads",
    "reply": "Replies",
    "document": "Documents",
}
HIT_LABELS = {"page": "Harvest page", "thread": "Thread", "reply": "Reply", "document": "Document"}


def _date(raw: str | None, problems: list[str], label: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        problems.append(f"The “{label}” date should look like 2026-03-01; it was ignored.")
        return None


def _page(raw: str | None) -> int:
    if raw and raw.isdigit() and len(raw) < 6:
        return max(1, min(int(raw), -(-CANDIDATES // PAGE_SIZE)))
    return 1


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def search_page(request: web.Request) -> web.Response:
    """Search form, filters and ranked results with highlighted snippets."""
    params = request.query
    query = params.get("q", "").strip()[:MAX_QUERY_CHARS]
    kind = params.get("kind") if params.get("kind") in KINDS else None
    problems: list[str] = []
    date_from = _date(params.get("from"), problems, "From")
    date_to = _date(params.get("to"), problems, "To")
    if date_from and date_to and date_from > date_to:
        date_from, date_to = date_to, date_from
    page = _page(params.get("page"))
    fixed_name = request.match_info.get("name")

    async with request.app[SESSIONS]() as session:
        communities = await list_communities(session)
        by_name = {community.actor.local_name: community for community in communities}
        if fixed_name is not None and fixed_name not in by_name:
            raise http_error(404, f"no community named {fixed_name!r}")
        hidden = [
            community.actor_id
            for community in communities
            if not await may_read(request, session, community)
        ]
        if fixed_name is not None and by_name[fixed_name].actor_id in hidden:
            raise http_error(404, f"no community named {fixed_name!r}")
        chosen = by_name.get(params.get("cop") or fixed_name or "")
        results = None
        if query:
            results = await search(
                session,
                query,
                community_id=chosen.actor_id if chosen else None,
                kind=kind,
                since=_start_of(date_from) if date_from else None,
                until=_start_of(date_to + timedelta(days=1)) if date_to else None,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                candidates=CANDIDATES,
                hidden_communities=hidden,
            )

    filters = {
        "q": query,
        "cop": chosen.actor.local_name if chosen else "",
        "kind": kind or "",
        "from": date_from.isoformat() if date_from else "",
        "to": date_to.isoformat() if date_to else "",
    }

    def page_url(number: int) -> str:
        kept = {key: value for key, value in filters.items() if value}
        return str(URL(request.path).with_query({**kept, "page": str(number)}))

    pages = 0
    if results is not None:
        pages = -(-results.total // PAGE_SIZE)
    context = {
        "settings": request.app[SETTINGS],
        "filters": filters,
        "communities": communities,
        "by_id": {community.actor_id: community for community in communities},
        "scope": by_name.get(fixed_name or "") or chosen,
        "kinds": KIND_LABELS,
        "hit_labels": HIT_LABELS,
        "results": results,
        "problems": problems,
        "page": page,
        "pages": pages,
        "first_number": (page - 1) * PAGE_SIZE + 1,
        "page_url": page_url,
        "action": "/search",
    }
    response = aiohttp_jinja2.render_template("search.html", request, context)
    response.headers["Cache-Control"] = "no-store"
    return response
