"""The Network's harvest as a whole: every readable page by CoP and topic, and a CoP's whole
harvest as a zip of Markdown files with a list of sources."""

from __future__ import annotations

import io
import re
import zipfile

from aiohttp import web

from models.actors import actors_by_ids
from models.communities import list_communities
from models.harvest_queries import list_pages, topics
from models.harvest_sources import sources_of
from server.appkeys import SESSIONS, SETTINGS
from server.http.errors import http_error
from server.services.harvest_render import plain_markdown
from server.web.community_access import visible_community
from server.web.harvest import render
from server.web.harvest_access import may_read_community

INDEX_LIMIT = 500
EXPORT_LIMIT = 5_000
_UNSAFE = re.compile(r"[^a-z0-9]+")


async def network_harvest(request: web.Request) -> web.Response:
    """GET /harvest: pages of every CoP this reader may read, grouped by CoP, by topic."""
    topic = request.query.get("topic", "").strip()[:100] or None
    async with request.app[SESSIONS]() as session:
        hidden = [
            community.actor_id
            for community in await list_communities(session)
            if not await may_read_community(request, session, community)
        ]
        found = await list_pages(session, limit=INDEX_LIMIT, topic=topic, hidden_communities=hidden)
        groups = await actors_by_ids(session, {page.community_id for page in found.pages})
        every_topic = await topics(session)
    by_group: dict[int, list] = {}
    for page in sorted(found.pages, key=lambda page: page.title.casefold()):
        by_group.setdefault(page.community_id, []).append(page)
    ordered = sorted(
        by_group.items(),
        key=lambda item: (
            groups[item[0]].display_name or groups[item[0]].username or ""
        ).casefold(),
    )
    context = {
        "groups": groups,
        "by_group": ordered,
        "topic": topic or "",
        "topics": every_topic,
        "total": found.total,
    }
    return render(request, "harvest_index.html", context)


def _slug(title: str) -> str:
    return _UNSAFE.sub("-", title.casefold()).strip("-")[:60] or "page"


def _page_markdown(page, sources) -> str:
    lines = [f"# {page.title}", ""]
    if page.is_retired:
        lines += ["> Retired: kept for the record, out of date.", ""]
    if page.topic:
        lines += [f"Topic: {page.topic}", ""]
    if page.summary:
        lines += [page.summary, ""]
    lines += [plain_markdown(page.body, sources), ""]
    stamp = page.updated_at.strftime("%Y-%m-%d %H:%M UTC")
    lines += [f"_Revision {page.revision_number}, {stamp}._", ""]
    return "\n".join(lines)


def _sources_markdown(entries: list[tuple[str, object, list]]) -> str:
    lines = ["# Sources", ""]
    for filename, page, sources in entries:
        lines += [f"## {page.title} ({filename})", ""]
        if not sources:
            lines += ["No sources.", ""]
        for source in sources:
            if source.state == "withdrawn":
                lines.append("- A source was withdrawn by its author.")
                continue
            who = source.author_name + (
                f" ({source.author_handle})" if source.author_handle else ""
            )
            when = source.posted_at.strftime("%Y-%m-%d") if source.posted_at else "undated"
            where = f", {source.community_name}" if source.community_name else ""
            changed = " (edited since it was harvested)" if source.state == "changed" else ""
            lines.append(f"- {who}, {when}{where}: <{source.post_url}>{changed}")
        lines.append("")
    return "\n".join(lines)


async def export_zip(request: web.Request) -> web.Response:
    """GET /c/{name}/harvest.zip: every page as Markdown, and SOURCES.md."""
    name = request.match_info["name"]
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, name)
        if not await may_read_community(request, session, community):
            raise http_error(404, f"no community named {name!r}")
        found = await list_pages(session, community_ids=[community.actor_id], limit=EXPORT_LIMIT)
        entries = []
        for page in found.pages:
            filename = f"{page.id}-{_slug(page.title)}.md"
            entries.append((filename, page, await sources_of(session, page.id)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for filename, page, sources in entries:
            archive.writestr(f"{name}-harvest/{filename}", _page_markdown(page, sources))
        archive.writestr(f"{name}-harvest/SOURCES.md", _sources_markdown(entries))
        settings = request.app[SETTINGS]
        readme = (
            f"The harvest of {community.actor.display_name} on {settings.instance_name} "
            f"({settings.url}/c/{name}/harvest): {len(entries)} pages.\n"
        )
        archive.writestr(f"{name}-harvest/README.md", readme)
    return web.Response(
        body=buffer.getvalue(),
        content_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}-harvest.zip"',
            "Cache-Control": "no-store",
        },
    )
