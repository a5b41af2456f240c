"""A remote `Event` (Mobilizon, Gancio, Friendica...) read into what copnet archives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from federation.event_time import is_timezone
from federation.event_vocab import (
    CANCELLED,
    CONFIRMED,
    FEP_8A8E_NS,
    STATUS_FROM_FEP,
    TENTATIVE,
    Place,
)
from federation.objects import (
    PUBLIC_FORMS,
    InvalidActivity,
    as_list,
    ids_of,
    object_id,
    parse_datetime,
)
from federation.origin import authority


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
    if fep in STATUS_FROM_FEP:
        return STATUS_FROM_FEP[fep]
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
