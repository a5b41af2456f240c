"""What a Basecamp form or `copnet basecamp` command says, checked and turned into UTC.

Wall times are entered in the Basecamp's own IANA zone and stored as UTC instants plus that
zone; a time skipped by a daylight-saving change is refused rather than silently moved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from yarl import URL

from federation.event_time import is_timezone
from federation.event_vocab import CATEGORIES, Place
from models.communities import Community
from models.events import Event

NAME_LIMIT = 200
DESCRIPTION_LIMIT = 20_000
URL_LIMIT = 2000
TEXT_LIMIT = 255
FORM_TIME = "%Y-%m-%dT%H:%M"


class InvalidBasecamp(ValueError):
    """The form or command line describes no valid Basecamp; `errors` maps field to problem."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class BasecampInput:
    """A validated Basecamp description, times already converted to UTC."""

    name: str
    description: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    place: Place = field(default_factory=Place)
    online_url: str | None = None
    capacity: int | None = None
    banner_url: str | None = None
    category: str = "MEETING"
    host_names: tuple[str, ...] = ()


def parse_input(fields: Mapping[str, str], host_names: Sequence[str]) -> BasecampInput:
    """Validate a form's (or the CLI's) text fields; raise InvalidBasecamp listing every problem."""
    errors: dict[str, str] = {}
    text = {key: str(value or "").strip() for key, value in fields.items()}
    name = text.get("name", "")
    if not name:
        errors["name"] = "Give the Basecamp a name."
    elif len(name) > NAME_LIMIT:
        errors["name"] = f"Keep the name under {NAME_LIMIT} characters."
    timezone = text.get("timezone", "") or "Europe/London"
    if not is_timezone(timezone):
        errors["timezone"] = "Use a time zone name such as Europe/London."
        timezone = "UTC"
    starts_at = _instant(text.get("start", ""), timezone, "start", errors)
    ends_at = _instant(text.get("end", ""), timezone, "end", errors)
    if starts_at and ends_at and ends_at <= starts_at:
        errors["end"] = "The end must come after the start."
    latitude = _number(text.get("latitude", ""), 90, "latitude", errors)
    longitude = _number(text.get("longitude", ""), 180, "longitude", errors)
    if (latitude is None) != (longitude is None) and "latitude" not in errors:
        errors["latitude"] = "Give both latitude and longitude, or neither."
    place = Place(
        name=text.get("place_name", "")[:TEXT_LIMIT],
        street_address=text.get("street_address", "")[:TEXT_LIMIT],
        locality=text.get("locality", "")[:TEXT_LIMIT],
        region=text.get("region", "")[:TEXT_LIMIT],
        postal_code=text.get("postal_code", "")[:32],
        country=text.get("country", "")[:TEXT_LIMIT],
        latitude=latitude,
        longitude=longitude,
    )
    online_url = _web_url(text.get("online_url", ""), "online_url", errors)
    banner_url = _web_url(text.get("banner_url", ""), "banner_url", errors)
    if place.is_empty and not online_url and "online_url" not in errors:
        errors["place_name"] = "Say where it happens: a place, an online link, or both."
    capacity = _capacity(text.get("capacity", ""), errors)
    category = text.get("category", "") or "MEETING"
    if category not in CATEGORIES:
        errors["category"] = "Choose one of the listed categories."
    description = text.get("description", "")
    if len(description) > DESCRIPTION_LIMIT:
        errors["description"] = f"Keep the description under {DESCRIPTION_LIMIT} characters."
    if errors:
        raise InvalidBasecamp(errors)
    assert starts_at is not None and ends_at is not None
    return BasecampInput(
        name=name,
        description=description,
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=timezone,
        place=place,
        online_url=online_url,
        capacity=capacity,
        banner_url=banner_url,
        category=category,
        host_names=tuple(dict.fromkeys(h.strip().lower() for h in host_names if h.strip())),
    )


def _instant(value: str, timezone: str, key: str, errors: dict[str, str]) -> datetime | None:
    if not value:
        errors[key] = f"Give the {key} date and time."
        return None
    try:
        wall = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        errors[key] = "Write it as YYYY-MM-DD HH:MM."
        return None
    if wall.tzinfo is not None:
        errors[key] = "Give the local time; the time zone is a separate field."
        return None
    tz = ZoneInfo(timezone)
    instant = wall.replace(tzinfo=tz)
    # A wall time skipped when the clocks go forward does not survive the round trip.
    if instant.astimezone(ZoneInfo("UTC")).astimezone(tz).replace(tzinfo=None) != wall:
        errors[key] = "That time does not exist there (the clocks change); pick another."
        return None
    return instant.astimezone(ZoneInfo("UTC"))


def _number(value: str, limit: float, key: str, errors: dict[str, str]) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        errors[key] = "Use a decimal number, e.g. 53.7997."
        return None
    if not -limit <= number <= limit:
        errors[key] = f"Must be between -{limit:g} and {limit:g}."
        return None
    return number


def _web_url(value: str, key: str, errors: dict[str, str]) -> str | None:
    if not value:
        return None
    try:
        url = URL(value)
    except ValueError:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        errors[key] = "Use a full web address starting with https://."
        return None
    if len(value) > URL_LIMIT:
        errors[key] = "That address is too long."
        return None
    return value


def _capacity(value: str, errors: dict[str, str]) -> int | None:
    if not value:
        return None
    if not value.isdigit() or not 0 < int(value) <= 1_000_000:
        errors["capacity"] = "Use a whole number of places, or leave it empty for no limit."
        return None
    return int(value)


def fields_of(event: Event, hosts: Sequence[Community] = ()) -> dict[str, str]:
    """An event as form fields (local wall times), to prefill an edit form or a CLI update."""
    tz = ZoneInfo(event.timezone) if is_timezone(event.timezone) else ZoneInfo("UTC")

    def text(value: Any) -> str:
        return "" if value is None else str(value)

    return {
        "name": event.name,
        "description": event.description_source,
        "start": event.starts_at.astimezone(tz).strftime(FORM_TIME),
        "end": event.ends_at.astimezone(tz).strftime(FORM_TIME),
        "timezone": event.timezone,
        "place_name": event.place_name,
        "street_address": event.street_address,
        "locality": event.locality,
        "region": event.region,
        "postal_code": event.postal_code,
        "country": event.country,
        "latitude": text(event.latitude),
        "longitude": text(event.longitude),
        "online_url": text(event.online_url),
        "capacity": text(event.capacity),
        "banner_url": text(event.banner_url),
        "category": event.category,
        "hosts": " ".join(h.actor.local_name or "" for h in hosts),
    }
