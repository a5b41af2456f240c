"""What every activity handler shares: its context and the outcomes it may raise.

Each handler module has `verify(ctx, activity)`, which checks and fetches but writes nothing to
the archive, and `receive(ctx, session, activity, prepared)`, which writes in one transaction
together with marking the activity processed (so processing happens exactly once).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.actors import InvalidActor
from federation.fetch import FetchBudget, FetchBudgetExceeded, Fetcher, FetchError, GoneError
from federation.objects import InvalidActivity
from federation.shapes import shaped
from models.actors import Actor
from server.peers.policy import FederationPolicy
from server.peers.remote import RemoteActors
from server.settings import Settings
from server.urls import Urls

# How many remote documents one incoming activity may make us fetch (reply chains, actors).
FETCH_BUDGET = 12


class Reject(Exception):
    """The activity is invalid or not allowed; it is dropped with this reason."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Ignore(Reject):
    """The activity is fine but not for copnet (e.g. addressed to no CoP)."""


class TryAgainLater(Exception):
    """A transient failure (a remote server is down); try again with backoff."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Context:
    """What handlers may use: settings, URLs, sessions, fetching and remote actors."""

    settings: Settings
    urls: Urls
    sessions: async_sessionmaker[AsyncSession]
    fetcher: Fetcher
    remote: RemoteActors
    policy: FederationPolicy
    clock: Callable[[], datetime]
    forwarded: bool = False
    budget: FetchBudget = field(default_factory=lambda: FetchBudget(FETCH_BUDGET))
    after_commit: list[Callable[[], None]] = field(default_factory=list)


@dataclass(frozen=True)
class Handler:
    """An activity's pair of functions: `verify` checks (may fetch, writes nothing) and returns
    what `receive` needs; `receive` writes in the transaction that finishes the row."""

    verify: Callable[[Context, dict], Awaitable[Any]]
    receive: Callable[[Context, AsyncSession, dict, Any], Awaitable[None]]


def well_formed(document: Any) -> dict:
    """The document in the shape handlers rely on (federation.shapes); Reject with why if not."""
    try:
        return shaped(document)
    except InvalidActivity as error:
        raise Reject(f"malformed: {error}") from error


def reject_or_retry(error: FetchError, what: str) -> Exception:
    """Turn a fetch failure into Reject (permanent) or TryAgainLater (transient)."""
    if isinstance(error, FetchBudgetExceeded):
        return Reject(f"{what}: fetch budget exhausted")
    if isinstance(error, GoneError) or error.status in (400, 401, 403, 404):
        return Reject(f"{what}: {error.reason}")
    return TryAgainLater(f"{what}: {error.reason}")


async def remote_actor(ctx: Context, ap_id: str) -> Actor:
    """The (cached or freshly fetched) actor with this id; Reject/TryAgainLater on failure."""
    try:
        return await ctx.remote.get(ap_id, budget=ctx.budget)
    except FetchError as error:
        raise reject_or_retry(error, f"cannot fetch actor {ap_id}") from error
    except (InvalidActor, LookupError) as error:  # LookupError: a local URL naming no actor
        raise Reject(f"actor {ap_id} is not usable: {error}") from error
