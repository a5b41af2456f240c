"""The delivery worker: claims due deliveries, signs and POSTs them, records what happened.

Wiring (one worker per process; several processes may share one PostgreSQL database)::

    worker = DeliveryWorker(engine, sessions, client, urls)   # client: the InboxClient
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    ...                     # after enqueue() has been committed: worker.wake()
    stop.set(); await task  # finishes in-flight POSTs, records them, hands back the rest
    worker.close()          # shuts down the signing threads the worker created

`run_once()` handles one claimed batch and returns how many rows it handled (tests call it
directly with an injected clock). Each batch: claim up to `batch` due rows with a lease; load
them with each activity body once; deliver them with at most `concurrency` requests in flight
and `per_host` per host, over the process's `InboxClient` so connections to a host are kept
alive between its inboxes; sign the requests on `signer_executor` in chunks
(`server/workers/signing.py`); record outcomes in a few statements (`outcomes.py`: retrying
and giving up follow `federation.retry.next_attempt`). `run()` claims the next batch as soon
as the current one has started all of its rows, so database round trips and a batch's slowest
requests overlap with new work (at most two batches in flight; the global and per-host limits
and breaker state are shared). A host that keeps failing opens its circuit breaker
(`breaker.py`): its rows wait, unattempted, until the cooldown has passed, then one probe
decides whether the rest go.

A batch (`delivery_batch.BatchRun`) stops starting requests when its lease is about to run
out or `stop` is set, and hands the unstarted rows back; a worker that dies loses nothing: its
leased rows fall due again once the lease has passed, and its outcomes were written as the
POSTs finished, so only the last few are sent again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.delivery import (
    DEFAULT_TIMEOUT,
    DeliveryResult,
    GiveUp,
    deliver,
)
from federation.inbox_client import InboxClient
from federation.knock import Knock
from models.base import utcnow
from models.deliveries import (
    ActivityToSend,
    ClaimedBatch,
    DueDelivery,
    claim,
    load_claimed,
)
from server.peers.signature_knocks import SignatureKnocks
from server.urls import Urls
from server.workers.breaker import HostBreaker, HostBreakers
from server.workers.delivery_batch import BatchRun, grow_hostname_cache
from server.workers.double_knock import knock_twice
from server.workers.outcomes import WorkerTotals, outcome_of
from server.workers.signing import presign, sign_delivery, signing_threads

__all__ = ["DeliveryWorker", "WorkerTotals"]

log = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
ROWS_PER_LANE = 4
# Time kept in reserve at the end of a lease for the last requests and the final write.
_LEASE_MARGIN = 10.0


class DeliveryWorker:
    """Delivers queued activities; see the module docstring for how to run it."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        client: InboxClient,
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
        knocks: SignatureKnocks | None = None,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._client = client
        self._urls = urls
        self._clock = clock
        self._batch = batch
        self._lease = lease
        self._timeout = request_timeout
        self._poll_interval = poll_interval
        self._owns_executor = signer_executor is None
        self._executor = signer_executor or ThreadPoolExecutor(
            max_workers=signing_threads(), thread_name_prefix="copnet-sign"
        )
        grow_hostname_cache()
        self._slots = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._hosts = HostBreakers(per_host)
        self._knocks = knocks or SignatureKnocks(sessions, clock=clock)
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
        await run.finish(self._sessions, self._clock(), self.totals)
        run.log_done(self.totals)
        return len(ids)

    def _start_run(self, batch: ClaimedBatch, dispatched: asyncio.Event) -> BatchRun:
        budget = self._lease.total_seconds() - self._timeout - _LEASE_MARGIN
        if budget <= 0:
            budget = self._lease.total_seconds() / 2
        hosts = {name: self._hosts.for_state(state) for name, state in batch.hosts.items()}
        run = BatchRun(batch, hosts, time.monotonic() + budget, dispatched, len(batch.deliveries))
        if not batch.deliveries:
            dispatched.set()
        return run

    async def _deliver_batch(self, run: BatchRun) -> None:
        by_host: dict[str, list[DueDelivery]] = {}
        for row in run.batch.deliveries:
            by_host.setdefault(row.host, []).append(row)
        await self._knocks.load(by_host)
        run.knocks = {host: Knock(self._knocks.first_knock(host)) for host in by_host}
        run.signed = presign(
            self._executor,
            by_host.values(),
            lambda activity: self._key_id(run, activity),
            self._clock(),
            lambda host: run.knocks[host],
        )
        await asyncio.gather(
            *(self._deliver_host(run, host, rows) for host, rows in by_host.items())
        )

    async def _deliver_host(self, run: BatchRun, name: str, rows: list[DueDelivery]) -> None:
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
        run.set_aside(queue, host, self._clock(), self.totals)

    async def _lane(self, run: BatchRun, queue: deque[DueDelivery], host: HostBreaker) -> None:
        while queue and not host.is_open(self._clock()) and self._may_start(run):
            await self._attempt(run, run.take(queue), host)

    def _may_start(self, run: BatchRun) -> bool:
        stopping = self._stop is not None and self._stop.is_set()
        return not stopping and time.monotonic() < run.deadline

    async def _attempt(self, run: BatchRun, row: DueDelivery, host: HostBreaker) -> None:
        async with host.slots, self._slots:
            result = await self._send(run, row)
        now = self._clock()
        host.observe(result, now)
        outcome = outcome_of(row, result, now)
        self.totals.count(outcome)
        if isinstance(result, GiveUp) and result.gone:
            run.gone.append(row.inbox_url)
        run.outcomes.append(outcome)
        run.handled += 1
        run.log_progress(self.totals)
        await run.flush(self._sessions, self._clock)

    async def _send(self, run: BatchRun, row: DueDelivery) -> DeliveryResult:
        activity = row.activity
        if not activity.sender.private_key_pem:
            return GiveUp("the sending actor has no private key")
        signed = await run.signed.take(row.id)  # every row with a key was presigned
        if isinstance(signed, Exception):
            return GiveUp(f"cannot sign: {signed}")
        return await knock_twice(
            self._knocks,
            row.host,
            run.knocks[row.host],
            signed,
            post=lambda headers: self._post(row, headers),
            sign=lambda knock: self._sign_now(run, row, knock),
        )

    async def _sign_now(self, run: BatchRun, row: DueDelivery, knock: Knock) -> dict[str, str]:
        activity = row.activity
        return await asyncio.get_running_loop().run_in_executor(
            self._executor,
            sign_delivery,
            row.inbox_url,
            activity.digest,
            self._key_id(run, activity),
            activity.sender.private_key_pem or "",
            self._clock(),
            knock,
        )

    async def _post(self, row: DueDelivery, signed: dict[str, str]) -> DeliveryResult:
        return await deliver(
            self._client,
            row.inbox_url,
            row.activity.body,
            row.activity.digest,
            signed,
            time_limit=self._timeout,
            now=self._clock(),
        )

    def _key_id(self, run: BatchRun, activity: ActivityToSend) -> str:
        key_id = run.key_ids.get(activity.id)
        if key_id is None:
            key_id = self._urls.key_id(self._urls.actor(activity.sender))
            run.key_ids[activity.id] = key_id
        return key_id
