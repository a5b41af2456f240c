"""Parse the AS2 activities and post objects copnet accepts into typed values."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from federation.origin import authority, same_origin
from federation.vocab import PUBLIC

POST_TYPES = frozenset({"Note", "Page", "Article", "Question"})
# Forms of the public collection seen in the wild (the compacted ones are legal JSON-LD).
PUBLIC_FORMS = frozenset({PUBLIC, "as:Public", "Public"})


class InvalidActivity(ValueError):
    """The document is not an activity copnet can accept; the message says why."""


def object_id(value: Any) -> str | None:
    """The id of a value that is either a URL string or an object with an `id`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def as_list(value: Any) -> list:
    """AS2 allows one value or a list wherever many are possible."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ids_of(value: Any) -> list[str]:
    """The ids of every entry of a one-or-many property."""
    return [found for item in as_list(value) if (found := object_id(item))]


@dataclass(frozen=True)
class Envelope:
    """The parts of any incoming activity checked before it is stored."""

    id: str
    type: str
    actor: str
    object_id: str | None


def parse_envelope(document: Any) -> Envelope:
    """Check an incoming activity's id, type and actor; raise InvalidActivity otherwise."""
    if not isinstance(document, dict):
        raise InvalidActivity("activity must be a JSON object")
    activity_id = document.get("id")
    if not isinstance(activity_id, str) or authority(activity_id) is None:
        raise InvalidActivity("activity has no absolute http(s) id")
    kind = document.get("type")
    if isinstance(kind, list) and len(kind) == 1:
        kind = kind[0]
    if not isinstance(kind, str) or not kind:
        raise InvalidActivity("activity has no type")
    actor = object_id(document.get("actor"))
    if actor is None and isinstance(document.get("actor"), list) and len(document["actor"]) == 1:
        actor = object_id(document["actor"][0])
    if actor is None or authority(actor) is None:
        raise InvalidActivity("activity has no actor")
    return Envelope(
        id=activity_id, type=kind, actor=actor, object_id=object_id(document.get("object"))
    )


@dataclass(frozen=True)
class Mention:
    """A `Mention` tag: who is mentioned and how the text names them."""

    href: str
    name: str


@dataclass(frozen=True)
class Attachment:
    """An attachment kept as a link with its metadata (files are not copied)."""

    url: str
    media_type: str | None
    name: str | None
    type: str


@dataclass(frozen=True)
class PostObject:
    """A Note, Page, Article or Question as copnet archives it."""

    id: str
    type: str
    attributed_to: str
    content_html: str
    name: str
    summary: str
    sensitive: bool
    in_reply_to: str | None
    url: str | None
    audience: list[str]
    to: list[str]
    cc: list[str]
    mentions: list[Mention]
    attachments: list[Attachment]
    published: datetime | None
    updated: datetime | None
    source: str = ""
    context: str | None = None

    @property
    def recipients(self) -> list[str]:
        """Everyone the post is addressed to, mentioned people included."""
        return [*self.to, *self.cc, *self.audience, *(m.href for m in self.mentions)]

    @property
    def is_public(self) -> bool:
        """Addressed to the public collection."""
        return any(value in PUBLIC_FORMS for value in (*self.to, *self.cc))


def parse_post(document: Any) -> PostObject:
    """Parse a post object; raise InvalidActivity with the reason when it is unusable."""
    if not isinstance(document, dict):
        raise InvalidActivity("object must be embedded as a JSON object")
    kind = document.get("type")
    if kind not in POST_TYPES:
        raise InvalidActivity(f"object type {kind!r} is not a post (Note, Page, Article)")
    post_id = document.get("id")
    if not isinstance(post_id, str) or authority(post_id) is None:
        raise InvalidActivity("object has no absolute http(s) id")
    authors = ids_of(document.get("attributedTo"))
    # Lemmy/PeerTube list the author and the community; the Person is the author.
    author = next((a for a in authors if same_origin(a, post_id)), authors[0] if authors else None)
    if author is None:
        raise InvalidActivity("object has no attributedTo")
    content = document.get("content")
    if not isinstance(content, str):
        content = _first_map_value(document.get("contentMap")) or ""
    name = document.get("name")
    if not isinstance(name, str):
        name = _first_map_value(document.get("nameMap")) or ""
    summary = document.get("summary")
    source = document.get("source")
    return PostObject(
        id=post_id,
        type=kind,
        attributed_to=author,
        content_html=content,
        name=name.strip(),
        summary=summary if isinstance(summary, str) else "",
        sensitive=document.get("sensitive") is True,
        in_reply_to=object_id(
            document["inReplyTo"][0]
            if isinstance(document.get("inReplyTo"), list) and document["inReplyTo"]
            else document.get("inReplyTo")
        ),
        url=_first_url(document.get("url")),
        audience=ids_of(document.get("audience")),
        to=ids_of(document.get("to")),
        cc=ids_of(document.get("cc")),
        mentions=list(_mentions(document.get("tag"))),
        attachments=list(_attachments(document.get("attachment"))),
        published=parse_datetime(document.get("published")),
        updated=parse_datetime(document.get("updated")),
        source=source.get("content", "")
        if isinstance(source, dict) and isinstance(source.get("content"), str)
        else "",
        context=object_id(document.get("context")),
    )


def parse_datetime(value: Any) -> datetime | None:
    """An xsd:dateTime as an aware UTC datetime; None when absent or unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _first_map_value(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((v for v in value.values() if isinstance(v, str)), None)
    return None


def _first_url(value: Any) -> str | None:
    for item in as_list(value):
        if isinstance(item, str):
            return item
        if isinstance(item, dict):
            href = item.get("href") or item.get("url")
            if isinstance(href, str) and item.get("mediaType", "text/html") == "text/html":
                return href
    return None


def _mentions(tags: Any) -> Iterable[Mention]:
    for tag in as_list(tags):
        if isinstance(tag, dict) and tag.get("type") == "Mention":
            href = tag.get("href")
            if isinstance(href, str):
                yield Mention(href=href, name=str(tag.get("name") or ""))


def _attachments(value: Any) -> Iterable[Attachment]:
    for item in as_list(value):
        if not isinstance(item, dict):
            continue
        url = item.get("url") or item.get("href")
        if isinstance(url, list | dict):
            url = _first_url(url) if isinstance(url, list) else url.get("href")
        if isinstance(url, str) and authority(url):
            yield Attachment(
                url=url,
                media_type=item.get("mediaType")
                if isinstance(item.get("mediaType"), str)
                else None,
                name=item.get("name") if isinstance(item.get("name"), str) else None,
                type=str(item.get("type") or "Link"),
            )
