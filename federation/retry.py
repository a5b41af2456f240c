"""The one retry policy of every queue: backoff, giving up, Retry-After, status classes, breaker.

Pure functions and constants only. `next_attempt` is the single rule for when a failed row of
any queue (received activities, deliveries, scheduled jobs) is tried again or given up; the
workers apply it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "BREAKER_THRESHOLD",
    "MAX_ATTEMPTS",
    "MAX_SCHEDULE",
    "RETRY_AFTER_CAP",
    "Verdict",
    "backoff_cap",
    "backoff_delay",
    "breaker_cooldown",
    "classify_status",
    "next_attempt",
    "retry_after",
]

Verdict = Literal["delivered", "retry", "give_up", "gone"]

BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=12)
# 17 waits whose ceilings add up to ~101 h; with jitter in [ceiling/2, ceiling] the schedule
# spans 50.5-101 h. Mastodon's DeliveryWorker (16 Sidekiq retries, ~count**4 s apart) spans
# about two days too.
MAX_ATTEMPTS = 18
RETRY_AFTER_CAP = timedelta(hours=6)

# Consecutive host failures (no answer, timeouts, 5xx) before the breaker opens.
BREAKER_THRESHOLD = 5
BREAKER_BASE = timedelta(minutes=1)
BREAKER_CAP = timedelta(hours=1)

# 401: Mastodon answers it when it could not fetch our key yet (a transient failure);
# 408 and 429: the server asks us to come back.
_RETRYABLE_4XX = frozenset({401, 408, 429})


def backoff_cap(attempt: int) -> timedelta:
    """The longest wait after the `attempt`-th failed attempt (1-based)."""
    exponent = min(max(attempt, 1) - 1, 32)
    return min(BACKOFF_BASE * (2**exponent), BACKOFF_CAP)


def backoff_delay(attempt: int, *, rng: Callable[[], float] = random.random) -> timedelta:
    """Wait after the `attempt`-th failed attempt: exponential, jittered in [cap/2, cap].

    Jitter spreads the retries of one outage so a recovering host is not hit by every queued
    row at once; keeping half of the ceiling (AWS "equal jitter") guarantees the whole schedule
    lasts at least two days, which full jitter cannot promise.
    """
    cap = backoff_cap(attempt)
    return cap / 2 + cap / 2 * rng()


def next_attempt(
    attempts: int,
    *,
    floor: timedelta | None = None,
    age: timedelta | None = None,
    rng: Callable[[], float] = random.random,
) -> timedelta | None:
    """How long to wait after `attempts` failed attempts (1-based), or None to give up.

    `floor` is the least wait the other side asked for (a capped Retry-After): never earlier.
    `age` is how long the work has been queued: past the whole schedule (MAX_SCHEDULE) it is
    given up however few attempts it had (deliveries held back by an open circuit breaker are
    postponed without counting an attempt, so attempts alone would never end them).
    """
    if attempts >= MAX_ATTEMPTS or (age is not None and age > MAX_SCHEDULE):
        return None
    wait = backoff_delay(attempts, rng=rng)
    return wait if floor is None else max(wait, floor)


MAX_SCHEDULE = sum((backoff_cap(a) for a in range(1, MAX_ATTEMPTS)), timedelta())


def retry_after(
    header_value: str | None, *, now: datetime, cap: timedelta = RETRY_AFTER_CAP
) -> timedelta | None:
    """How long a `Retry-After` header (delta-seconds or HTTP-date) asks us to wait, capped."""
    if header_value is None:
        return None
    text = header_value.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        wait = timedelta(seconds=min(int(text), int(cap.total_seconds()) + 1))
    else:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if moment.tzinfo is None:
            # asctime dates carry no zone; HTTP dates are always GMT (RFC 9110 §5.6.7).
            moment = moment.replace(tzinfo=UTC)
        wait = moment - now
    return min(max(wait, timedelta()), cap)


def classify_status(status: int) -> Verdict:
    """What an inbox's HTTP status means for the delivery."""
    if 200 <= status < 300:
        return "delivered"
    if status == 410:
        return "gone"
    if status in _RETRYABLE_4XX or 500 <= status < 600:
        return "retry"
    # Other 4xx will not change on retry; 3xx: a POST is not replayed to another URL.
    return "give_up"


def breaker_cooldown(failures: int) -> timedelta:
    """How long a host's breaker stays open after `failures` consecutive failures."""
    exponent = min(max(failures - BREAKER_THRESHOLD, 0), 32)
    return min(BREAKER_BASE * (2**exponent), BREAKER_CAP)
