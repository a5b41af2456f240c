"""What a delivery attempt's result means for its row, and the worker's running totals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from federation.delivery import Delivered, DeliveryResult, GiveUp
from federation.retry import next_attempt
from models.deliveries import DONE, FAILED, DueDelivery, Outcome
from server.workers.breaker import open_reason

__all__ = ["WorkerTotals", "held_outcome", "outcome_of"]


def outcome_of(row: DueDelivery, result: DeliveryResult, now: datetime) -> Outcome:
    """Done, failed, or due again when federation.retry.next_attempt says (never before a
    server's Retry-After)."""
    if isinstance(result, Delivered):
        return Outcome.done(row, result.status)
    if isinstance(result, GiveUp):
        return Outcome.failed(row, result.status, result.reason)
    attempt = row.attempts + 1
    wait = next_attempt(attempt, floor=result.delay)
    if wait is None:
        reason = f"gave up after {attempt} attempts: {result.reason}"
        return Outcome.failed(row, result.status, reason)
    return Outcome.retry(row, now + wait, result.status, result.reason)


def held_outcome(row: DueDelivery, until: datetime, now: datetime) -> Outcome:
    """A row not attempted because its host's breaker is open until `until`: due again then,
    or given up once it has waited longer than the whole retry schedule."""
    if next_attempt(row.attempts, age=now - row.created_at) is None:
        reason = "host unreachable for longer than the retry schedule"
        return Outcome.failed(row, None, reason, attempted=False)
    return Outcome.postponed(row, until, open_reason(until))


@dataclass
class WorkerTotals:
    """Counters since the worker started (for logs and metrics)."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    postponed: int = 0
    released: int = 0
    batches: int = 0

    def count(self, outcome: Outcome, *, attempted: bool = True) -> None:
        """Count a row's outcome (a row held behind a breaker is postponed, not retried)."""
        if outcome.state == DONE:
            self.delivered += 1
        elif outcome.state == FAILED:
            self.failed += 1
        elif attempted:
            self.retried += 1
        else:
            self.postponed += 1
