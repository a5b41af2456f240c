"""Mobilizon-compatible `Event` and its companion poll (`Question`): build and parse.

The Event follows Mobilizon's wire format (fixture mobilizon/objects/event.json: `mz:`, `sc:`
and `ical:` terms, `location` as a schema.org Place with a PostalAddress) and FEP-8a8e (the
required `name`, `startTime`, `endTime` and `organizers`, plus `eventStatus`, `attendees` and an
IANA `timezone`). Mastodon shows only `name`, `summary` and a link for an Event, so `summary`
says when and where in plain words.

Mastodon users cannot send `Join`: a poll is how they answer. A vote is Mastodon's wire format,
`Create{Note{name: <option>, inReplyTo: <Question>}}` with no content
(mastodon app/serializers/activitypub/vote_serializer.rb).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from federation.objects import (
    PUBLIC_FORMS,
    InvalidActivity,
    as_list,
    ids_of,
    object_id,
    parse_datetime,
)
from federation.origin import authority
from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime

MOBILIZON_NS = "https://joinmobilizon.org/ns#"
SCHEMA_NS = "http://schema.org#"  # sic: Mobilizon's spelling, kept so its terms expand alike
ICAL_NS = "http://www.w3.org/2002/12/cal/ical#"
FEP_8A8E_NS = "https://w3id.org/fep/8a8e/"

# Inline term definitions only: a remote context URL would make JSON-LD processors (Fedify)
# fetch it, and fail where there is no network.
EVENT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "sc": SCHEMA_NS,
        "mz": MOBILIZON_NS,
        "ical": ICAL_NS,
        "pt": "https://joinpeertube.org/ns#",
        "fep": FEP_8A8E_NS,
        "PostalAddress": "sc:PostalAddress",
        "VirtualLocation": "sc:VirtualLocation",
        "address": {"@id": "sc:address", "@type": "sc:PostalAddress"},
        "addressCountry": "sc:addressCountry",
        "addressLocality": "sc:addressLocality",
        "addressRegion": "sc:addressRegion",
        "postalCode": "sc:postalCode",
        "streetAddress": "sc:streetAddress",
        "location": {"@id": "sc:location", "@type": "sc:Place"},
        "timezone": {"@id": "mz:timezone", "@type": "sc:Text"},
        "isOnline": {"@id": "mz:isOnline", "@type": "sc:Boolean"},
        "joinMode": {"@id": "mz:joinMode", "@type": "mz:joinModeType"},
        "participantCount": {"@id": "mz:participantCount", "@type": "sc:Integer"},
        "maximumAttendeeCapacity": "sc:maximumAttendeeCapacity",
        "remainingAttendeeCapacity": "sc:remainingAttendeeCapacity",
        "anonymousParticipationEnabled": {
            "@id": "mz:anonymousParticipationEnabled",
            "@type": "sc:Boolean",
        },
        "commentsEnabled": {"@id": "pt:commentsEnabled", "@type": "sc:Boolean"},
        "category": "sc:category",
        "inLanguage": "sc:inLanguage",
        "contacts": {"@id": "mz:contacts", "@type": "@id"},
        "organizers": {"@id": "fep:organizers", "@type": "@id"},
        "attendees": {"@id": "fep:attendees", "@type": "@id"},
        "eventStatus": {"@id": "fep:eventStatus", "@type": "@vocab"},
        "EventScheduled": "fep:EventScheduled",
        "EventCancelled": "fep:EventCancelled",
        "EventTentative": "fep:EventTentative",
    },
]
QUESTION_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {"toot": "http://joinmastodon.org/ns#", "votersCount": "toot:votersCount"},
]

CONFIRMED, CANCELLED, TENTATIVE = "CONFIRMED", "CANCELLED", "TENTATIVE"
_FEP_STATUS = {
    CONFIRMED: "EventScheduled",
    CANCELLED: "EventCancelled",
    TENTATIVE: "EventTentative",
}
_STATUS_FROM_FEP = {value: key for key, value in _FEP_STATUS.items()}
# FEP-8a8e's recommended categories (a subset that fits health and social care, plus Mobilizon's).
CATEGORIES = (
    "MEETING",
    "LEARNING",
    "WORKSHOPS_SKILL_SHARING",
    "NETWORKING",
    "COMMUNITY",
    "CAUSES",
    "MEDITATION_WELLBEING",
    "SCIENCE_TECH",
    "BUSINESS",
    "INCLUSIVE_SPACES",
)
# The companion poll's options, in order, and the RSVP role each one records.
POLL_OPTIONS: tuple[tuple[str, str], ...] = (
    ("Going", "going"),
    ("Maybe", "maybe"),
    ("Can't go", "declined"),
)
ROLE_BY_OPTION = dict(POLL_OPTIONS)
DASH = "\u2013"


@dataclass(frozen=True)
class Place:
    """A physical venue: a name and a postal address, with coordinates when known."""

    name: str = ""
    street_address: str = ""
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None

    @property
    def is_empty(self) -> bool:
        """True when nothing about the place is known."""
        return not (self.name or self.street_address or self.locality or self.postal_code)

    def one_line(self) -> str:
        """Name and address as one line of text."""
        address = (self.street_address, self.locality, self.region, self.postal_code)
        parts = [self.name, *(part for part in address if part)]
        return ", ".join(part for part in parts if part)


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


@dataclass(frozen=True)
class ParsedEvent:
    """A remote `Event` as copnet archives it."""

    id: str
    name: str
    content_html: str
    source: str
    url: str | None
    attributed_to: list[str]
    actor: str | None
    start: datetime
    end: datetime
    timezone: str
    place: Place
    online_url: str | None
    capacity: int | None
    participant_count: int
    join_mode: str
    status: str
    category: str
    banner_url: str | None
    comments_enabled: bool
    published: datetime | None
    updated: datetime | None
    to: list[str]
    cc: list[str]
    audience: list[str]

    @property
    def is_public(self) -> bool:
        """Addressed to the public collection (FEP-8a8e §Discoverability)."""
        return any(value in PUBLIC_FORMS for value in (*self.to, *self.cc))

    @property
    def recipients(self) -> list[str]:
        """Every address the event names."""
        return [*self.to, *self.cc, *self.audience]


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str) -> bool:
    """True for an IANA zone identifier such as Europe/London."""
    if not name or name not in _zone_names():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: str) -> ZoneInfo:
    """The zone called `name`, or UTC when it is not a known IANA zone."""
    return ZoneInfo(name) if is_timezone(name) else ZoneInfo("UTC")


def local_iso(instant: datetime, timezone: str) -> str:
    """An xsd:dateTime with the zone's offset at that instant (the wall time stays readable)."""
    return instant.astimezone(zone(timezone)).isoformat(timespec="seconds")


def describe_when(start: datetime, end: datetime, timezone: str) -> str:
    """E.g. 'Saturday 27 March 2027, 10:00-16:00 GMT' (an en dash) in the event's own zone."""
    tz = zone(timezone)
    first, last = start.astimezone(tz), end.astimezone(tz)
    day = f"{first:%A} {first.day} {first:%B %Y}"
    if first.date() == last.date():
        return f"{day}, {first:%H:%M}{DASH}{last:%H:%M} {last:%Z}"
    last_day = f"{last:%A} {last.day} {last:%B %Y}"
    return f"{day}, {first:%H:%M} {first:%Z} {DASH} {last_day}, {last:%H:%M} {last:%Z}"


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
        "eventStatus": _FEP_STATUS.get(facts.status, "EventScheduled"),
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


def is_event(document: Any) -> bool:
    """True when an embedded object is an `Event`."""
    return isinstance(document, dict) and "Event" in as_list(document.get("type"))


def parse_event(document: Any) -> ParsedEvent:
    """Parse a remote Event (Mobilizon, Gancio, Friendica...); InvalidActivity when unusable."""
    if not is_event(document):
        raise InvalidActivity("object is not an Event")
    event_id = document.get("id")
    if not isinstance(event_id, str) or authority(event_id) is None:
        raise InvalidActivity("Event has no absolute http(s) id")
    name = _text(document.get("name")) or _text(_first_value(document.get("nameMap")))
    if not name:
        raise InvalidActivity("Event has no name")
    start = parse_datetime(document.get("startTime"))
    if start is None:
        raise InvalidActivity("Event has no readable startTime")
    end = parse_datetime(document.get("endTime"))
    if end is None or end <= start:
        # FEP-8a8e: without an end, receivers may infer one.
        end = start + timedelta(hours=2)
    timezone = _text(document.get("timezone"))
    place, online = _parse_location(document.get("location"))
    online = online or _link_attachment(document.get("attachment"))
    source = document.get("source")
    content = _text(document.get("content")) or _text(_first_value(document.get("contentMap")))
    return ParsedEvent(
        id=event_id,
        name=name[:512],
        content_html=content,
        source=_text(source.get("content")) if isinstance(source, dict) else "",
        url=_url(document.get("url")),
        attributed_to=ids_of(document.get("attributedTo")),
        actor=object_id(document.get("actor")),
        start=start,
        end=end,
        timezone=timezone if is_timezone(timezone) else "UTC",
        place=place,
        online_url=online,
        capacity=_positive_int(document.get("maximumAttendeeCapacity")),
        participant_count=_positive_int(document.get("participantCount")) or 0,
        join_mode=_text(document.get("joinMode")) or "free",
        status=_parse_status(document),
        category=_text(document.get("category"))[:64] or "MEETING",
        banner_url=_banner(document.get("attachment"), document.get("image")),
        comments_enabled=document.get("commentsEnabled") is not False,
        published=parse_datetime(document.get("published")),
        updated=parse_datetime(document.get("updated")),
        to=ids_of(document.get("to")),
        cc=ids_of(document.get("cc")),
        audience=ids_of(document.get("audience")),
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _first_value(value: Any) -> Any:
    return next(iter(value.values()), None) if isinstance(value, dict) else None


def _url(value: Any) -> str | None:
    for item in as_list(value):
        href = item.get("href") if isinstance(item, dict) else item
        if isinstance(href, str) and authority(href):
            return href
    return None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return int(value)


def _parse_status(document: dict) -> str:
    fep = _text(document.get("eventStatus")).removeprefix(FEP_8A8E_NS)
    if fep in _STATUS_FROM_FEP:
        return _STATUS_FROM_FEP[fep]
    ical = _text(document.get("ical:status") or document.get("status")).upper()
    return ical if ical in (CONFIRMED, CANCELLED, TENTATIVE) else CONFIRMED


def _parse_location(value: Any) -> tuple[Place, str | None]:
    place, online = Place(), None
    for item in as_list(value):
        if not isinstance(item, dict):
            continue
        kinds = as_list(item.get("type"))
        if "VirtualLocation" in kinds:
            online = online or _url(item.get("url"))
        elif place.is_empty:
            place = _parse_place(item)
    return place, online


def _parse_place(item: dict) -> Place:
    address = item.get("address")
    if isinstance(address, dict):
        fields = {
            "street_address": _text(address.get("streetAddress")),
            "locality": _text(address.get("addressLocality")),
            "region": _text(address.get("addressRegion")),
            "postal_code": _text(address.get("postalCode"))[:32],
            "country": _text(address.get("addressCountry")),
        }
    else:  # FEP-8a8e allows the address as plain text
        fields = {"street_address": _text(address)}
    return Place(
        name=_text(item.get("name")),
        latitude=_coordinate(item.get("latitude"), 90),
        longitude=_coordinate(item.get("longitude"), 180),
        **fields,
    )


def _coordinate(value: Any, limit: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > limit:
        return None
    return float(value)


def _link_attachment(value: Any) -> str | None:
    for item in as_list(value):
        if isinstance(item, dict) and item.get("type") == "Link":
            return _url(item.get("href"))
    return None


def _banner(attachment: Any, image: Any) -> str | None:
    for item in [*as_list(attachment), *as_list(image)]:
        if not isinstance(item, dict) or item.get("type") not in ("Document", "Image"):
            continue
        media_type = item.get("mediaType")
        if isinstance(media_type, str) and not media_type.startswith("image/"):
            continue
        found = _url(item.get("url"))
        if found:
            return found
    return None
