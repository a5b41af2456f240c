"""HTTP dates as signatures carry them (RFC 7231 IMF-fixdate out; the three HTTP forms in)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from federation.signature_header import SignatureError

__all__ = ["format_http_date", "parse_http_date", "utc"]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_http_date(moment: datetime) -> str:
    """Format a time as an RFC 7231 IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`)."""
    t = utc(moment)
    return (
        f"{_WEEKDAYS[t.weekday()]}, {t.day:02d} {_MONTHS[t.month - 1]} {t.year:04d} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} GMT"
    )


# Requests sent in the same second by one server carry the same Date: each is parsed once.
@functools.lru_cache(maxsize=256)
def parse_http_date(value: str) -> datetime:
    """Parse an HTTP date (IMF-fixdate, RFC 850 or asctime) to an aware UTC datetime."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        raise SignatureError("Date header is not a valid HTTP date") from None
    return utc(moment)


def utc(moment: datetime | None) -> datetime:
    """An aware UTC datetime: now when None, naive ones taken as UTC."""
    if moment is None:
        return datetime.now(UTC)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
