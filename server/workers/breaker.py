"""Each host's circuit breaker and request slots, shared by the delivery batches in flight.

A host that keeps failing (no answer, timeouts, 5xx) opens its breaker for
federation.retry.breaker_cooldown: its rows are postponed without being attempted, then one
probe request decides whether the rest go. The state is kept in `instances` (HostState).
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

from federation.delivery import Delivered, DeliveryResult, host_is_down
from federation.retry import BREAKER_THRESHOLD, breaker_cooldown
from models.deliveries import HostState

__all__ = ["HostBreaker", "HostBreakers", "open_reason", "result_has_status"]

# Refresh `instances.last_success_at` at most this often per host (it is one write per host).
_SUCCESS_REFRESH = timedelta(hours=1)


def result_has_status(result: DeliveryResult) -> bool:
    """True when the inbox answered with an HTTP status at all."""
    return isinstance(result, Delivered) or result.status is not None


def open_reason(until: datetime) -> str:
    """Why a host's rows were not attempted."""
    return f"host unreachable; circuit breaker open until {until.isoformat()}"


@dataclass(eq=False)
class HostBreaker:
    """One host's request slots and circuit breaker."""

    stored: HostState
    failures: int
    open_until: datetime | None
    slots: asyncio.Semaphore
    succeeded: bool = False
    opened: bool = False

    @classmethod
    def from_state(cls, state: HostState, per_host: int) -> HostBreaker:
        return cls(
            state, state.consecutive_failures, state.unreachable_until, asyncio.Semaphore(per_host)
        )

    def is_open(self, now: datetime) -> bool:
        return self.open_until is not None and self.open_until > now

    @property
    def needs_probe(self) -> bool:
        # Half-open: the cooldown passed but the last requests failed; test with one first.
        return self.failures >= BREAKER_THRESHOLD

    def observe(self, result: DeliveryResult, now: datetime) -> None:
        if host_is_down(result):
            self.failures += 1
            if self.failures >= BREAKER_THRESHOLD:
                self.open_until = now + breaker_cooldown(self.failures)
                self.opened = True
        elif result_has_status(result):
            # Any HTTP answer below 500 means the host is up, even if it refused this one.
            self.failures = 0
            self.open_until = None
            self.succeeded = True

    def newly_opened_until(self, now: datetime) -> datetime | None:
        """Until when the breaker stays open, if it opened since the last write and still is."""
        if self.opened and self.open_until is not None and self.is_open(now):
            return self.open_until
        return None

    def changed_state(self, now: datetime) -> HostState | None:
        stored = self.stored
        refresh = self.succeeded and (
            stored.last_success_at is None or now - stored.last_success_at > _SUCCESS_REFRESH
        )
        if (
            self.failures == stored.consecutive_failures
            and self.open_until == stored.unreachable_until
            and not refresh
        ):
            return None
        return HostState(
            stored.domain,
            self.failures,
            self.open_until,
            now if refresh else stored.last_success_at,
        )

    def saved(self, state: HostState) -> None:
        """The state is written; what changed from here on is new."""
        self.stored = state

    def written(self) -> None:
        """A batch's outcomes are written: forget its successes and openings."""
        self.succeeded = self.opened = False


class HostBreakers:
    """The live breakers of the hosts in flight, so two batches share one host's state."""

    def __init__(self, per_host: int) -> None:
        self._per_host = per_host
        self._live: weakref.WeakValueDictionary[str, HostBreaker] = weakref.WeakValueDictionary()

    def for_state(self, state: HostState) -> HostBreaker:
        """The host's live breaker if a batch in flight holds one, else one from `state`."""
        host = self._live.get(state.domain)
        if host is None:
            host = HostBreaker.from_state(state, self._per_host)
            self._live[state.domain] = host
        return host
