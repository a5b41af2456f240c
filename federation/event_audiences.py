"""Which shape of an `Event` each kind of server is sent, so each shows a title and no warning.

One `Event` cannot read well everywhere:
- Mastodon turns an Event into a status of `name`, `summary` and the link, ignores `content`
  and shows no content warning for it (mastodon app/lib/activitypub/activity/create.rb:
  `converted_text`, and `spoiler_text: ''` for CONVERTED_TYPES, which list Event in
  app/lib/activitypub/activity.rb); Mobilizon reads `name` as the title, `content` as the
  description and the online address from a `Link` attachment named "Website"
  (mobilizon lib/federation/activity_stream/converter/event.ex, get_online_address). The full
  document (federation.event_documents.event_document) serves both.
- GoToSocial takes an Event as a status whose content warning is `summary`, else `name`
  (gotosocial internal/typeutils/astointernal.go, ASStatusToStatus: "prefer Summary, fall
  back to Name"; internal/ap/interfaces.go IsStatusable lists Event), and logs a warning for an
  attachment that is not a Document, Image, Video or Audio (internal/ap/extract.go,
  ExtractAttachments), such as the `Link`. It gets the same Event with no `name` or `summary`,
  the title and the plain-words date and place leading `content`, and no `Link` attachment.
"""

from __future__ import annotations

import html
from typing import Any

from federation.event_documents import EventFacts, describe, event_document

FULL, GOTOSOCIAL = "full", "gotosocial"
_GOTOSOCIAL_SOFTWARE = frozenset({"gotosocial"})


def event_shape(software: str | None) -> str:
    """`gotosocial` for GoToSocial, `full` (the Mobilizon-compatible Event) for anyone else."""
    if software and software.strip().lower() in _GOTOSOCIAL_SOFTWARE:
        return GOTOSOCIAL
    return FULL


def shaped_event_document(facts: EventFacts, shape: str) -> dict[str, Any]:
    """The Event as the given kind of server should receive it."""
    document = event_document(facts)
    if shape != GOTOSOCIAL:
        return document
    page = html.escape(facts.url)
    lead = f"<p><strong>{html.escape(facts.name)}</strong></p><p>{html.escape(describe(facts))}</p>"
    tail = f'<p>Details, RSVP and calendar: <a href="{page}">{page}</a></p>'
    document["content"] = lead + facts.content_html + tail
    document.pop("name", None)
    document.pop("summary", None)
    document.pop("source", None)  # the Markdown says less than the content now does
    attachments = [item for item in document.get("attachment", []) if item["type"] != "Link"]
    if attachments:
        document["attachment"] = attachments
    else:
        document.pop("attachment", None)
    return document
