"""The delivery worker: claims due deliveries, signs and POSTs them, records what happened.

Wiring (one worker per process; several processes may share one PostgreSQL database)::

    worker = DeliveryWorker(engine, sessions, client, urls)   # client: the app's ClientSession
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    ...                     # after enqueue() has been committed: worker.wake()
    stop.set(); await task  # finishes in-flight POSTs, records them, hands back the rest
    worker.close()          # shuts down the signing threads the worker created

`run_once()` handles one claimed batch and returns how many rows it handled (tests call it
directly with an injected clock). Each batch: claim up to `batch` due rows with a lease; load
them with each activity body once; deliver them with at most `concurrency` requests in flight
and `per_host` per host, over the one shared `aiohttp.ClientSession` so connections to a host
are kept alive between its inboxes; sign each request on `signer_executor` (RSA signing in
`cryptography` releases the GIL, so threads use every core); record outcomes in a few
statements. `run()` claims the next batch as soon as the current one has started all of its
rows, so database round trips and a batch's slowest requests overlap with new work (at most
two batches in flight; the global and per-host limits and breaker state are shared).
A host that keeps failing (no answer, timeouts, 5xx) opens its circuit breaker: its rows are
postponed without being attempted until the breaker's cooldown has passed, then
one probe request decides whether the rest go.

A batch stops starting requests when its lease is about to run out or `stop` is set, and hands
the unstarted rows back; a worker that dies loses nothing: its leased rows fall due again
once the lease has passed. Outcomes are written a few dozen at a time as the POSTs finish
(FLUSH_ROWS), so of the rows it had already POSTed only the last few are then sent again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp
import yarl
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.delivery import (
    DEFAULT_TIMEOUT,
    Delivered,
    DeliveryResult,
    GiveUp,
    RetryLater,
    deliver,
    host_is_down,
)
from federation.keys import KeyFormatError, load_private_key
from federation.retry import (
    BREAKER_THRESHOLD,
    MAX_ATTEMPTS,
    MAX_SCHEDULE,
    backoff_delay,
    breaker_cooldown,
)
from federation.signatures import sign_request
from models.base import utcnow
from models.deliveries import (
    ActivityToSend,
    ClaimedBatch,
    DueDelivery,
    HostState,
    Outcome,
    claim,
    load_claimed,
    mark_inboxes_gone,
    postpone_host,
    record_outcomes,
    release,
    save_host_states,
)
from server.urls import Urls

__all__ = ["DeliveryWorker", "WorkerTotals", "sign_delivery", "signing_threads"]

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
ROWS_PER_LANE = 4
SIGN_CHUNK = 16  # POSTs signed per executor job
# yarl decodes every request's hostname through a 256-entry cache; a fan-out reaches thousands.
HOSTNAME_CACHE = 8192
PROGRESS_EVERY = 10.0
# Outcomes are written in small batches as POSTs finish, so a worker killed mid-fan-out sends
# again only what it had not yet written: at most about FLUSH_ROWS plus the POSTs in flight.
FLUSH_ROWS = 32
FLUSH_SECONDS = 0.25
# Refresh `instances.last_success_at` at most this often per host (it is one write per host).
_SUCCESS_REFRESH = timedelta(hours=1)
# Time kept in reserve at the end of a lease for the last requests and the final write.
_LEASE_MARGIN = 10.0


def signing_threads() -> int:
    """Threads for RSA signing: one per core plus one to cover the GIL-held Python part."""
    return (os.cpu_count() or 1) + 1


def sign_delivery(
    inbox_url: str, digest: str, key_id: str, private_key_pem: str, now: datetime
) -> dict[str, str]:
    """Signed Host/Date/Digest/Signature headers for one inbox POST (runs on the executor)."""
    # The body itself is not needed (its Digest was computed once at enqueue time), which also
    # keeps what a process pool would have to pickle small.
    return sign_request(
        "POST",
        inbox_url,
        {},
        b"",
        key_id=key_id,
        private_key=load_private_key(private_key_pem),
        now=now,
        digest=digest,
    )


def sign_deliveries(
    jobs: list[tuple[str, str, str, str]], now: datetime
) -> list[dict[str, str] | Exception]:
    """Sign several POSTs in one executor call: (inbox, digest, keyId, key PEM) each."""
    signed: list[dict[str, str] | Exception] = []
    for inbox_url, digest, key_id, pem in jobs:
        try:
            signed.append(sign_delivery(inbox_url, digest, key_id, pem, now))
        except (KeyFormatError, ValueError) as exc:
            signed.append(exc)
    return signed


def _grow_hostname_cache() -> None:
    info = yarl.cache_info()
    size = info["idna_decode"].maxsize
    if size is not None and size < HOSTNAME_CACHE:
        yarl.cache_configure(
            idna_encode_size=HOSTNAME_CACHE,
            idna_decode_size=HOSTNAME_CACHE,
            encode_host_size=HOSTNAME_CACHE,
        )


@dataclass
class WorkerTotals:
    """Counters since the worker started (for logs and metrics)."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    postponed: int = 0
    released: int = 0
    batches: int = 0


@dataclass(eq=False)
class _Host:
    """One host's request slots and circuit breaker, shared by the batches in flight."""

    stored: HostState
    failures: int
    open_until: datetime | None
    slots: asyncio.Semaphore
    succeeded: bool = False
    opened: bool = False

    @classmethod
    def from_state(cls, state: HostState, per_host: int) -> _Host:
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


def _domain(state: HostState) -> str:
    return state.domain


def result_has_status(result: DeliveryResult) -> bool:
    """True when the inbox answered with an HTTP status at all."""
    return isinstance(result, Delivered) or result.status is not None


@dataclass
class _Run:
    """Book-keeping for one claimed batch."""

    batch: ClaimedBatch
    hosts: dict[str, _Host]
    deadline: float
    dispatched: asyncio.Event
    waiting: int = 0  # rows neither started nor set aside yet
    started: float = field(default_factory=time.monotonic)
    outcomes: list[Outcome] = field(default_factory=list)
    unstarted: list[int] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    key_ids: dict[int, str] = field(default_factory=dict)
    # row id -> (future of a signed chunk, index in it); see DeliveryWorker._presign
    signed: dict[int, tuple[asyncio.Future, int]] = field(default_factory=dict)
    handled: int = 0
    last_log: float = field(default_factory=time.monotonic)
    flushed: int = 0  # outcomes[:flushed] are written
    last_flush: float = field(default_factory=time.monotonic)
    flushing: asyncio.Lock = field(default_factory=asyncio.Lock)

    def take(self, queue: deque[DueDelivery]) -> DueDelivery:
        row = queue.popleft()
        self.settle(1)
        return row

    def settle(self, rows: int) -> None:
        self.waiting -= rows
        if self.waiting <= 0:
            self.dispatched.set()


class DeliveryWorker:
    """Delivers queued activities; see the module docstring for how to run it."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        client: aiohttp.ClientSession,
        urls: Urls,
        *,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 64,
        per_host: int = 8,
        batch: int = 500,
        lease: timedelta = timedelta(minutes=5),
        signer_executor: Executor | None = None,
        request_timeout: float = DEFAULT_TIMEOUT,
        poll_interval: float = POLL_INTERVAL,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._client = client
        self._urls = urls
        self._clock = clock
        self._per_host = per_host
        self._batch = batch
        self._lease = lease
        self._timeout = request_timeout
        self._poll_interval = poll_interval
        self._owns_executor = signer_executor is None
        self._executor = signer_executor or ThreadPoolExecutor(
            max_workers=signing_threads(), thread_name_prefix="copnet-sign"
        )
        _grow_hostname_cache()
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: weakref.WeakValueDictionary[str, _Host] = weakref.WeakValueDictionary()
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None
        self.totals = WorkerTotals()

    def wake(self) -> None:
        """Look for due rows now instead of at the next poll (call after committing enqueue)."""
        self._wake.set()

    def close(self) -> None:
        """Shut down the signing executor if the worker created it."""
        if self._owns_executor:
            self._executor.shutdown(wait=False, cancel_futures=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, sleeping between empty polls until woken."""
        self._stop = stop
        in_flight: list[asyncio.Task[int]] = []
        try:
            while not stop.is_set():
                self._wake.clear()
                dispatched = asyncio.Event()
                current = asyncio.create_task(self._guarded_batch(dispatched))
                in_flight.append(current)
                await dispatched.wait()
                if len(in_flight) > 1:
                    await in_flight.pop(0)
                if current.done() and current.result() == 0:
                    in_flight.remove(current)
                    await self._idle(stop)
        except asyncio.CancelledError:
            for task in in_flight:
                task.cancel()
            raise
        finally:
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _guarded_batch(self, dispatched: asyncio.Event) -> int:
        try:
            return await self._batch_once(dispatched)
        except Exception:
            log.exception("delivery batch failed; its rows fall due again after the lease")
            return 0
        finally:
            dispatched.set()

    async def _idle(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(
                waiters, timeout=self._poll_interval, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def run_once(self) -> int:
        """Claim one batch of due rows, deliver them and record outcomes; return how many."""
        return await self._batch_once(asyncio.Event())

    async def _batch_once(self, dispatched: asyncio.Event) -> int:
        now = self._clock()
        ids = await claim(self._engine, now=now, limit=self._batch, lease=self._lease)
        if not ids:
            return 0
        lease_until = now + self._lease
        async with self._sessions() as session:
            batch = await load_claimed(session, ids, lease_until=lease_until)
        run = self._start_run(batch, dispatched)
        await self._deliver_batch(run)
        await self._record(run)
        self._log_done(run)
        return len(ids)

    def _start_run(self, batch: ClaimedBatch, dispatched: asyncio.Event) -> _Run:
        budget = self._lease.total_seconds() - self._timeout - _LEASE_MARGIN
        if budget <= 0:
            budget = self._lease.total_seconds() / 2
        hosts = {name: self._host(state) for name, state in batch.hosts.items()}
        run = _Run(batch, hosts, time.monotonic() + budget, dispatched, len(batch.deliveries))
        if not batch.deliveries:
            dispatched.set()
        return run

    def _host(self, state: HostState) -> _Host:
        # A host already in flight in the other batch keeps its live state, not the stored one.
        host = self._hosts.get(state.domain)
        if host is None:
            host = _Host.from_state(state, self._per_host)
            self._hosts[state.domain] = host
        return host

    def _presign(self, run: _Run, by_host: dict[str, list[DueDelivery]]) -> None:
        # One executor job per chunk, not per POST: each job's completion wakes the event loop
        # through its self-pipe, which cost as much as the rest of a delivery. Rows are taken
        # round-robin across hosts, in the order the host lanes will want them.
        loop = asyncio.get_running_loop()
        order: list[DueDelivery] = []
        for depth in range(max((len(rows) for rows in by_host.values()), default=0)):
            order.extend(rows[depth] for rows in by_host.values() if depth < len(rows))
        order = [row for row in order if row.activity.sender.private_key_pem]
        now = self._clock()
        for start in range(0, len(order), SIGN_CHUNK):
            chunk = order[start : start + SIGN_CHUNK]
            jobs = [
                (
                    row.inbox_url,
                    row.activity.digest,
                    self._key_id(run, row.activity),
                    row.activity.sender.private_key_pem or "",
                )
                for row in chunk
            ]
            future = loop.run_in_executor(self._executor, sign_deliveries, jobs, now)
            for index, row in enumerate(chunk):
                run.signed[row.id] = (future, index)

    async def _deliver_batch(self, run: _Run) -> None:
        by_host: dict[str, list[DueDelivery]] = {}
        for row in run.batch.deliveries:
            by_host.setdefault(row.host, []).append(row)
        self._presign(run, by_host)
        await asyncio.gather(
            *(self._deliver_host(run, host, rows) for host, rows in by_host.items())
        )

    async def _deliver_host(self, run: _Run, name: str, rows: list[DueDelivery]) -> None:
        host = run.hosts[name]
        queue = deque(rows)
        if not host.is_open(self._clock()) and host.needs_probe and self._may_start(run):
            await self._attempt(run, run.take(queue), host)
        # Each lane is a connection (a TLS handshake in production); a few inboxes on one host
        # go faster one after another over a kept-alive connection than over new ones.
        lanes = min(self._per_host, -(-len(queue) // ROWS_PER_LANE))
        if lanes == 1:
            await self._lane(run, queue, host)  # most hosts: no extra task
        else:
            await asyncio.gather(*(self._lane(run, queue, host) for _ in range(lanes)))
        self._set_aside(run, queue, host)

    async def _lane(self, run: _Run, queue: deque[DueDelivery], host: _Host) -> None:
        while queue and not host.is_open(self._clock()) and self._may_start(run):
            await self._attempt(run, run.take(queue), host)

    def _may_start(self, run: _Run) -> bool:
        stopping = self._stop is not None and self._stop.is_set()
        return not stopping and time.monotonic() < run.deadline

    def _set_aside(self, run: _Run, rows: deque[DueDelivery], host: _Host) -> None:
        now = self._clock()
        until = host.open_until
        for row in rows:
            if until is None or until <= now:
                run.unstarted.append(row.id)
            elif now - row.created_at > MAX_SCHEDULE:
                reason = "host unreachable for longer than the retry schedule"
                run.outcomes.append(Outcome.failed(row, None, reason, attempted=False))
            else:
                reason = f"host unreachable; circuit breaker open until {until.isoformat()}"
                run.outcomes.append(Outcome.postponed(row, until, reason))
                self.totals.postponed += 1
        run.settle(len(rows))

    async def _attempt(self, run: _Run, row: DueDelivery, host: _Host) -> None:
        async with host.slots, self._slots:
            result = await self._send(run, row)
        now = self._clock()
        host.observe(result, now)
        run.outcomes.append(self._outcome(run, row, result, now))
        run.handled += 1
        self._log_progress(run)
        await self._flush(run)

    async def _flush(self, run: _Run) -> None:
        unwritten = len(run.outcomes) - run.flushed
        if unwritten < FLUSH_ROWS and (
            not unwritten or time.monotonic() - run.last_flush < FLUSH_SECONDS
        ):
            return
        if run.flushing.locked() and unwritten < 2 * FLUSH_ROWS:
            return  # another lane is writing; the next flush takes these
        # Past twice FLUSH_ROWS the lanes wait for the database instead of sending on: the
        # unwritten window stays bounded even when commits are slower than the POSTs.
        async with run.flushing:
            end = len(run.outcomes)
            if end == run.flushed:
                return
            outcomes = run.outcomes[run.flushed : end]
            run.last_flush = time.monotonic()
            try:
                async with self._sessions() as session:
                    await session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})
                    await record_outcomes(
                        session, outcomes, now=self._clock(), lease_until=run.batch.lease_until
                    )
                    await session.commit()
            except Exception:
                # Not lost: the batch's final write tries them again.
                log.exception("writing %d delivery outcomes failed", len(outcomes))
                return
            run.flushed = end

    async def _send(self, run: _Run, row: DueDelivery) -> DeliveryResult:
        activity = row.activity
        pem = activity.sender.private_key_pem
        if not pem:
            return GiveUp("the sending actor has no private key")
        presigned = run.signed.pop(row.id, None)
        if presigned is not None:
            signed = (await presigned[0])[presigned[1]]
            if isinstance(signed, Exception):
                return GiveUp(f"cannot sign: {signed}")
            return await deliver(
                self._client,
                row.inbox_url,
                activity.body,
                activity.digest,
                signed,
                time_limit=self._timeout,
                now=self._clock(),
            )
        loop = asyncio.get_running_loop()
        try:
            headers = await loop.run_in_executor(
                self._executor,
                sign_delivery,
                row.inbox_url,
                activity.digest,
                self._key_id(run, activity),
                pem,
                self._clock(),
            )
        except (KeyFormatError, ValueError) as exc:
            return GiveUp(f"cannot sign: {exc}")
        return await deliver(
            self._client,
            row.inbox_url,
            activity.body,
            activity.digest,
            headers,
            time_limit=self._timeout,
            now=self._clock(),
        )

    def _key_id(self, run: _Run, activity: ActivityToSend) -> str:
        key_id = run.key_ids.get(activity.id)
        if key_id is None:
            key_id = self._urls.key_id(self._urls.actor(activity.sender))
            run.key_ids[activity.id] = key_id
        return key_id

    def _outcome(
        self, run: _Run, row: DueDelivery, result: DeliveryResult, now: datetime
    ) -> Outcome:
        if isinstance(result, Delivered):
            self.totals.delivered += 1
            return Outcome.done(row, result.status)
        if isinstance(result, GiveUp):
            self.totals.failed += 1
            if result.gone:
                run.gone.append(row.inbox_url)
            return Outcome.failed(row, result.status, result.reason)
        return self._retry(row, result, now)

    def _retry(self, row: DueDelivery, result: RetryLater, now: datetime) -> Outcome:
        attempt = row.attempts + 1
        if attempt >= MAX_ATTEMPTS:
            self.totals.failed += 1
            reason = f"gave up after {attempt} attempts: {result.reason}"
            return Outcome.failed(row, result.status, reason)
        wait = backoff_delay(attempt)
        if result.delay is not None:
            # Retry-After (already capped) is a floor: never earlier than the server asked.
            wait = max(wait, result.delay)
        self.totals.retried += 1
        return Outcome.retry(row, now + wait, result.status, result.reason)

    async def _record(self, run: _Run) -> None:
        now = self._clock()
        lease_until = run.batch.lease_until
        changed = [(h, s) for h in run.hosts.values() if (s := h.changed_state(now)) is not None]
        async with self._sessions() as session:
            await session.connection(execution_options={"sqlite_begin": "BEGIN IMMEDIATE"})
            await record_outcomes(
                session, run.outcomes[run.flushed :], now=now, lease_until=lease_until
            )
            await release(session, run.unstarted, lease_until=lease_until)
            await mark_inboxes_gone(session, run.gone)
            # Sorted so that two workers lock `instances` rows in the same order.
            await save_host_states(session, sorted((s for _, s in changed), key=_domain))
            await session.commit()
        for host, state in changed:
            host.stored = state
        opened = self._newly_opened(run, now)
        for host in run.hosts.values():
            host.succeeded = host.opened = False
        self.totals.released += len(run.unstarted)
        self.totals.batches += 1
        if opened:
            await self._postpone(opened, now)

    def _newly_opened(self, run: _Run, now: datetime) -> list[tuple[str, datetime]]:
        return [
            (name, host.open_until)
            for name, host in run.hosts.items()
            if host.opened and host.open_until is not None and host.is_open(now)
        ]

    async def _postpone(self, opened: list[tuple[str, datetime]], now: datetime) -> None:
        # A separate transaction: it waits on other workers' row locks, so it must hold none
        # of the `instances` locks they may be waiting for.
        async with self._sessions() as session:
            for name, until in opened:
                reason = f"host unreachable; circuit breaker open until {until.isoformat()}"
                await postpone_host(session, name, until=until, now=now, reason=reason)
            await session.commit()

    def _log_progress(self, run: _Run) -> None:
        moment = time.monotonic()
        if moment - run.last_log < PROGRESS_EVERY:
            return
        run.last_log = moment
        log.info(
            "delivering: %d/%d rows of this batch in %.0f s (totals: %s)",
            run.handled,
            len(run.batch.deliveries),
            moment - run.started,
            self.totals,
        )

    def _log_done(self, run: _Run) -> None:
        elapsed = time.monotonic() - run.started
        level = logging.INFO if elapsed >= PROGRESS_EVERY else logging.DEBUG
        log.log(
            level,
            "delivery batch: %d rows (%d attempted) in %.1f s; totals: %s",
            len(run.batch.deliveries),
            run.handled,
            elapsed,
            self.totals,
        )
