"""Mobilizon-compatible `Event`: the AS2 document built from what the caller decided.

The Event follows Mobilizon's wire format (fixture mobilizon/objects/event.json: `mz:`, `sc:`
and `ical:` terms, `location` as a schema.org Place with a PostalAddress) and FEP-8a8e (the
required `name`, `startTime`, `endTime` and `organizers`, plus `eventStatus`, `attendees` and an
IANA `timezone`). Mastodon shows only `name`, `summary` and a link for an Event, so `summary`
says when and where in plain words. Reading a remote Event is federation.event_parsing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from federation.event_time import describe_when, local_iso
from federation.event_vocab import CANCELLED, CONFIRMED, EVENT_CONTEXT, FEP_STATUS, Place
from federation.vocab import PUBLIC, format_datetime


@dataclass(frozen=True)
class EventFacts:
    """Everything an Event document says, already decided by the caller."""

    id: str
    url: str
    name: str
    content_html: str
    source: str
    start: datetime
    end: datetime
    timezone: str
    organizer: str
    hosts: list[tuple[str, str]]  # (actor id, display name) of each hosting CoP
    followers: str
    place: Place = field(default_factory=Place)
    online_url: str | None = None
    capacity: int | None = None
    going: int = 0
    status: str = CONFIRMED
    category: str = "MEETING"
    join_mode: str = "free"
    comments_enabled: bool = True
    banner_url: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    attendees_url: str | None = None


def describe(facts: EventFacts) -> str:
    """The plain-words summary Mastodon shows: status, when, where and who hosts."""
    parts = [describe_when(facts.start, facts.end, facts.timezone)]
    if not facts.place.is_empty:
        parts.append(facts.place.one_line())
    if facts.online_url:
        parts.append(f"Online: {facts.online_url}")
    if facts.hosts:
        parts.append("Hosted by " + _and_list([name for _url, name in facts.hosts]))
    text = ". ".join(parts) + "."
    return f"CANCELLED. {text}" if facts.status == CANCELLED else text


def _and_list(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def event_document(facts: EventFacts) -> dict[str, Any]:
    """The AS2 `Event` as Mobilizon, FEP-8a8e readers and Mastodon all understand it."""
    host_ids = [url for url, _name in facts.hosts]
    organizers = [facts.organizer, *host_ids]
    document: dict[str, Any] = {
        "@context": EVENT_CONTEXT,
        "id": facts.id,
        "type": "Event",
        "name": facts.name,
        "summary": describe(facts),
        "content": facts.content_html,
        "mediaType": "text/html",
        "source": {"content": facts.source, "mediaType": "text/markdown"},
        "url": facts.url,
        "actor": facts.organizer,  # Mobilizon reads the organiser from `actor`
        "attributedTo": facts.organizer,
        "to": [PUBLIC],
        "cc": [facts.followers, *host_ids],
        "startTime": local_iso(facts.start, facts.timezone),
        "endTime": local_iso(facts.end, facts.timezone),
        "timezone": facts.timezone,
        "isOnline": facts.place.is_empty and bool(facts.online_url),
        "joinMode": facts.join_mode,
        "participantCount": facts.going,
        # Mobilizon writes 0 for "no limit" and null for the remaining capacity then.
        "maximumAttendeeCapacity": facts.capacity or 0,
        "remainingAttendeeCapacity": None
        if facts.capacity is None
        else max(facts.capacity - facts.going, 0),
        "anonymousParticipationEnabled": False,
        "commentsEnabled": facts.comments_enabled,
        "ical:status": facts.status,
        "eventStatus": FEP_STATUS.get(facts.status, "EventScheduled"),
        "category": facts.category,
        "contacts": host_ids,
        "organizers": {"type": "Collection", "totalItems": len(organizers), "items": organizers},
        "draft": False,
    }
    if facts.attendees_url:
        document["attendees"] = {
            "type": "Collection",
            "id": facts.attendees_url,
            "totalItems": facts.going,
        }
    location = _location(facts)
    if location is not None:
        document["location"] = location
    attachments = _attachments(facts)
    if attachments:
        document["attachment"] = attachments
    if facts.published is not None:
        document["published"] = format_datetime(facts.published)
    if facts.updated is not None:
        document["updated"] = format_datetime(facts.updated)
    return document


def _location(facts: EventFacts) -> dict[str, Any] | None:
    # One object, never a list: Mobilizon reads a single `location` map (FEP-8a8e allows a
    # list for hybrid events, but says to prefer the first entry; the link goes in attachment).
    place = facts.place
    if not place.is_empty:
        location: dict[str, Any] = {
            "type": "Place",
            "name": place.name or place.street_address,
            "address": {
                "type": "PostalAddress",
                "streetAddress": place.street_address,
                "addressLocality": place.locality,
                "addressRegion": place.region,
                "postalCode": place.postal_code,
                "addressCountry": place.country,
            },
        }
        if place.latitude is not None and place.longitude is not None:
            location["latitude"] = place.latitude
            location["longitude"] = place.longitude
        return location
    if facts.online_url:
        return {"type": "VirtualLocation", "name": "Online", "url": facts.online_url}
    return None


def _attachments(facts: EventFacts) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if facts.banner_url:
        # Mobilizon takes its banner from a Document named "Banner".
        found.append(
            {
                "type": "Document",
                "name": "Banner",
                "mediaType": _image_type(facts.banner_url),
                "url": facts.banner_url,
            }
        )
    if facts.online_url:
        # Mobilizon's online address is a Link attachment.
        found.append(
            {"type": "Link", "name": "Website", "mediaType": "text/html", "href": facts.online_url}
        )
    return found


def _image_type(url: str) -> str:
    lower = url.lower().split("?", 1)[0]
    for suffix, media_type in (
        (".png", "image/png"),
        (".webp", "image/webp"),
        (".gif", "image/gif"),
    ):
        if lower.endswith(suffix):
            return media_type
    return "image/jpeg"
