"""A member's data, to take along: a zip of JSON (for machines) and Markdown (for people).

profile.json          who they are here
posts.json, posts.md  every post they wrote that is not deleted, with its CoP and thread
documents.json        the documents they shared, each version's file under documents/
rsvps.json            their answers to Basecamps and events
notifications.json    what they were told of: kind, when, read or not, and the link
watched_threads.json  the threads they watch
followed_cops.json    the CoPs they follow without joining
mail_preferences.json how each kind of notification is mailed, and the Network digest

Nothing of another member's beyond what the member was shown, and no secret: no token, no
unsubscribe key or signed link.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from models.account_lifecycle import Archive
from models.account_queries import LocalMember
from models.actors import Actor
from models.in_touch import InTouch
from models.notifications import Notification
from server.mail.describe import describe
from server.urls import Urls

# Notifications described per batch: each batch looks its posts, people and events up at once.
_LINK_BATCH = 500


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _cop(urls: Urls, community: Actor) -> dict:
    return {"name": community.display_name or community.username, "id": urls.actor(community)}


async def notification_links(
    session: AsyncSession, urls: Urls, rows: Sequence[Notification]
) -> dict[int, str]:
    """Each notification's link by id, the one its mail gives."""
    links: dict[int, str] = {}
    for start in range(0, len(rows), _LINK_BATCH):
        lines = await describe(session, urls, rows[start : start + _LINK_BATCH])
        links.update((row_id, line.url) for row_id, line in lines.items())
    return links


def export_zip(
    member: LocalMember,
    archive: Archive,
    in_touch: InTouch,
    urls: Urls,
    *,
    notification_links: Mapping[int, str],
    language: str | None,
    stored_file: Callable[[str], Path],
) -> bytes:
    """The zip's bytes; `notification_links` comes from notification_links() and
    `stored_file(sha256)` gives the path of a stored document file."""
    actor = member.actor
    profile = {
        "name": member.name,
        "id": urls.person(member.name),
        "display_name": actor.display_name,
        "bio_markdown": actor.summary_source,
        "email": member.account.email,
        "language": language,
        "joined": _when(member.account.created_at),
    }
    posts = []
    markdown = [f"# Posts by {actor.display_name or member.name}\n"]
    for post, community in archive.posts:
        posts.append(
            {
                "id": urls.post(post.id),
                "thread": urls.thread(post.thread_id or post.id),
                "in_reply_to": urls.post(post.parent_id) if post.parent_id else None,
                "cop": _cop(urls, community),
                "title": post.title,
                "markdown": post.source,
                "html": post.content_html,
                "published": _when(post.published),
                "updated": _when(post.updated),
            }
        )
        heading = post.title or f"Reply in {community.display_name or community.username}"
        markdown.append(
            f"\n## {heading}\n\n*{_when(post.published)} · {urls.post(post.id)}*\n\n"
            f"{post.source or ''}\n"
        )
    documents = []
    files: list[tuple[str, Path]] = []
    for document, versions, community in archive.documents:
        entries = []
        for version in versions:
            inside = f"documents/{document.id}/{version.id}-{Path(version.filename).name}"
            entries.append(
                {
                    "file": inside,
                    "filename": version.filename,
                    "media_type": version.media_type,
                    "size": version.size,
                    "sha256": version.sha256,
                    "note": version.note,
                    "uploaded": _when(version.created_at),
                }
            )
            files.append((inside, stored_file(version.sha256)))
        documents.append(
            {
                "title": document.title,
                "description_markdown": document.description,
                "cop": _cop(urls, community),
                "created": _when(document.created_at),
                "versions": entries,
            }
        )
    rsvps = [
        {
            "event": event.name,
            "id": event.ap_id or urls.basecamp(event.id),
            "starts": _when(event.starts_at),
            "answer": participant.role,
            "answered": _when(participant.updated_at),
        }
        for participant, event in archive.rsvps
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as out:
        out.writestr("profile.json", _json(profile))
        out.writestr("posts.json", _json(posts))
        out.writestr("posts.md", "".join(markdown))
        out.writestr("documents.json", _json(documents))
        out.writestr("rsvps.json", _json(rsvps))
        for name, part in _in_touch_files(in_touch, urls, notification_links).items():
            out.writestr(name, _json(part))
        for inside, path in files:
            if path.is_file():
                out.write(path, inside)
    return buffer.getvalue()


def _in_touch_files(in_touch: InTouch, urls: Urls, links: Mapping[int, str]) -> dict[str, object]:
    notifications = [
        {
            "kind": row.kind,
            "created": _when(row.created_at),
            "read": row.read_at is not None,
            "link": links.get(row.id, urls.root),
        }
        for row in in_touch.notifications
    ]
    watched = [
        {
            # A deleted or removed thread keeps no words here: its link names it.
            "title": None if (t.thread.is_deleted or t.thread.is_removed) else t.thread.title,
            "id": urls.thread(t.thread.id),
            "cop": _cop(urls, t.community),
            "since": _when(t.since),
        }
        for t in in_touch.watched
    ]
    followed = [
        {**_cop(urls, cop.community), "since": _when(cop.since)} for cop in in_touch.followed
    ]
    mail = {"notifications": in_touch.mail, "network_digest": in_touch.network_digest}
    return {
        "notifications.json": notifications,
        "watched_threads.json": watched,
        "followed_cops.json": followed,
        "mail_preferences.json": mail,
    }


def _json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
