"""An event's time in its own IANA zone: checking zone names, and saying when in words."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

DASH = "\u2013"


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
