"""An event's companion poll (`Question`), and telling a Mastodon vote from a reply.

Mastodon users cannot send `Join`: a poll is how they answer. A vote is Mastodon's wire format,
`Create{Note{name: <option>, inReplyTo: <Question>}}` with no content
(mastodon app/serializers/activitypub/vote_serializer.rb).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.objects import as_list, object_id
from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime

QUESTION_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"toot": "http://joinmastodon.org/ns#", "votersCount": "toot:votersCount"},
]

# The companion poll's options, in order, and the RSVP role each one records.
POLL_OPTIONS: tuple[tuple[str, str], ...] = (
    ("Going", "going"),
    ("Maybe", "maybe"),
    ("Can't go", "declined"),
)
ROLE_BY_OPTION = dict(POLL_OPTIONS)


@dataclass(frozen=True)
class PollFacts:
    """What the companion poll of an event says."""

    id: str
    event_id: str
    event_url: str
    attributed_to: str
    followers: str
    content_html: str
    tallies: dict[str, int]  # role -> count
    closes: datetime  # `endTime`: never moves, or GoToSocial treats the poll as a new one
    closed: datetime | None  # when it closed (its end, or earlier when called off)
    published: datetime | None = None
    updated: datetime | None = None


def question_document(poll: PollFacts) -> dict[str, Any]:
    """The `Question` Mastodon renders as a poll; option `replies.totalItems` are the tallies."""
    options = [
        {
            "type": "Note",
            "name": name,
            "replies": {"type": "Collection", "totalItems": poll.tallies.get(role, 0)},
        }
        for name, role in POLL_OPTIONS
    ]
    document: dict[str, Any] = {
        "@context": QUESTION_CONTEXT,
        "id": poll.id,
        "type": "Question",
        "attributedTo": poll.attributed_to,
        "to": [PUBLIC],
        "cc": [poll.followers],
        "content": poll.content_html,
        "mediaType": "text/html",
        "url": poll.event_url,
        "context": poll.event_id,
        "oneOf": options,
        "endTime": format_datetime(poll.closes),
        "votersCount": sum(poll.tallies.get(role, 0) for _name, role in POLL_OPTIONS),
        "sensitive": False,
    }
    if poll.closed is not None:
        document["closed"] = format_datetime(poll.closed)
    if poll.published is not None:
        document["published"] = format_datetime(poll.published)
    if poll.updated is not None:
        document["updated"] = format_datetime(poll.updated)
    return document


def is_poll_vote(document: Any) -> bool:
    """True for Mastodon's vote shape: a Note with a `name`, an `inReplyTo` and no content."""
    if not isinstance(document, dict) or "Note" not in as_list(document.get("type")):
        return False
    name = document.get("name")
    content = document.get("content")
    return (
        isinstance(name, str)
        and bool(name.strip())
        and object_id(document.get("inReplyTo")) is not None
        and (content is None or (isinstance(content, str) and not content.strip()))
    )
