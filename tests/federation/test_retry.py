"""The retry policy: backoff schedule, Retry-After, status classes, breaker cooldown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from federation.retry import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    BREAKER_THRESHOLD,
    MAX_ATTEMPTS,
    MAX_SCHEDULE,
    RETRY_AFTER_CAP,
    backoff_cap,
    backoff_delay,
    breaker_cooldown,
    classify_status,
    next_attempt,
    retry_after,
)

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def total_schedule(rng) -> timedelta:
    return sum((backoff_delay(a, rng=rng) for a in range(1, MAX_ATTEMPTS)), timedelta())


def test_backoff_grows_exponentially_up_to_the_cap():
    caps = [backoff_cap(a) for a in range(1, MAX_ATTEMPTS)]
    assert caps[0] == timedelta(minutes=1)
    assert caps[1] == 2 * caps[0]
    assert caps == sorted(caps)
    assert max(caps) == BACKOFF_CAP


def test_jitter_stays_within_half_to_full_ceiling():
    assert backoff_delay(3, rng=lambda: 0.0) == backoff_cap(3) / 2
    assert backoff_delay(3, rng=lambda: 0.999999) <= backoff_cap(3)
    assert backoff_delay(3, rng=lambda: 0.5) == backoff_cap(3) * 0.75


def test_jitter_spreads_retries_of_one_outage():
    delays = {backoff_delay(4) for _ in range(50)}
    assert len(delays) > 40


def test_whole_schedule_lasts_at_least_two_days_whatever_the_jitter():
    shortest = total_schedule(lambda: 0.0)
    longest = total_schedule(lambda: 1.0)
    assert shortest >= timedelta(days=2)
    assert longest == MAX_SCHEDULE
    assert longest <= timedelta(days=5)


def test_attempt_numbers_below_one_or_huge_do_not_break():
    assert backoff_cap(0) == backoff_cap(1)
    assert backoff_cap(10_000) == BACKOFF_CAP


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, "delivered"),
        (202, "delivered"),
        (204, "delivered"),
        (410, "gone"),
        (401, "retry"),
        (408, "retry"),
        (429, "retry"),
        (500, "retry"),
        (502, "retry"),
        (503, "retry"),
        (504, "retry"),
        (400, "give_up"),
        (403, "give_up"),
        (404, "give_up"),
        (413, "give_up"),
        (422, "give_up"),
        (301, "give_up"),
        (302, "give_up"),
        (307, "give_up"),
    ],
)
def test_status_classes(status, verdict):
    assert classify_status(status) == verdict


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        (" 0 ", timedelta(0)),
        ("Sun, 01 Mar 2026 12:05:00 GMT", timedelta(minutes=5)),
        ("Sunday, 01-Mar-26 12:10:00 GMT", timedelta(minutes=10)),
        ("Sun Mar  1 12:01:00 2026", timedelta(minutes=1)),
        ("Sat, 28 Feb 2026 12:00:00 GMT", timedelta(0)),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value, expected):
    assert retry_after(value, now=NOW) == expected


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "Mon, 99 Foo 2026"])
def test_unreadable_retry_after_is_ignored(value):
    assert retry_after(value, now=NOW) is None


def test_retry_after_is_capped():
    assert retry_after("999999999999", now=NOW) == RETRY_AFTER_CAP
    assert retry_after("Fri, 01 Jan 2100 00:00:00 GMT", now=NOW) == RETRY_AFTER_CAP
    assert retry_after("7200", now=NOW, cap=timedelta(hours=1)) == timedelta(hours=1)


def test_breaker_cooldown_doubles_from_threshold_and_is_capped():
    first = breaker_cooldown(BREAKER_THRESHOLD)
    assert breaker_cooldown(BREAKER_THRESHOLD + 1) == 2 * first
    assert breaker_cooldown(BREAKER_THRESHOLD + 100) == timedelta(hours=1)


def test_next_attempt_backs_off_then_gives_up_after_the_last_attempt():
    assert next_attempt(1, rng=lambda: 1.0) == BACKOFF_BASE
    assert next_attempt(MAX_ATTEMPTS - 1, rng=lambda: 0.0) is not None
    assert next_attempt(MAX_ATTEMPTS) is None
    assert next_attempt(MAX_ATTEMPTS + 5) is None


def test_next_attempt_never_comes_before_the_floor_the_server_asked_for():
    asked = timedelta(hours=5)
    assert next_attempt(1, floor=asked, rng=lambda: 1.0) == asked
    assert next_attempt(1, floor=timedelta(seconds=1), rng=lambda: 1.0) == BACKOFF_BASE


def test_next_attempt_gives_up_work_queued_longer_than_the_whole_schedule():
    assert next_attempt(0, age=MAX_SCHEDULE, rng=lambda: 1.0) is not None
    assert next_attempt(0, age=MAX_SCHEDULE + timedelta(seconds=1)) is None
    assert next_attempt(3, age=timedelta(hours=1)) is not None
