"""Group commit for the inboxes: concurrent requests share one INSERT and one COMMIT.

Each inbox request hands its row to the writer and waits; the writer takes every row queued
while the previous batch was being written, stores them in one transaction and only then
releases the requests, so no 202 is sent for an activity that is not on disk (one INSERT
statement, committed on its own). Under load the
batches grow by themselves; alone, a request is written at once (no timer, no added delay).

Several writing tasks share the queue (`writers`; one on SQLite, which has one writer anyway):
a request that arrives while a batch is being committed is taken by an idle task at once
instead of waiting for that commit, so a nearly idle server answers in one commit's time.
Only when every task is busy do requests queue up, and the next free task takes them all.
On PostgreSQL each task keeps its own connection in autocommit, so a batch is one round trip.

One request must never spoil the others: a row the database cannot keep is refused before it
joins a batch (`Unstorable`), and if a batch's INSERT still fails, its rows are written one by
one so that only the row at fault fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from models.received import store_batch, unstorable_reason

log = logging.getLogger(__name__)
MAX_BATCH = 256
POSTGRESQL_WRITERS = 4  # well under the pool (10 + 10 overflow) that requests also use


class Unstorable(ValueError):
    """The row cannot be stored as it is; `reason` says why (a 400, not a 503)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class IntakeWriter:
    """Stores received activities in batches; `store()` says whether the activity was new."""

    def __init__(self, engine: AsyncEngine, writers: int | None = None):
        self.engine = engine
        if writers is None:
            writers = 1 if engine.dialect.name == "sqlite" else POSTGRESQL_WRITERS
        self.writers = writers
        self._queue: asyncio.Queue[tuple[dict, asyncio.Future[bool]]] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._kept: list[AsyncConnection] = []

    def start(self) -> None:
        """Start the writing tasks (in the running loop)."""
        self._tasks = [
            asyncio.create_task(self._run(), name=f"copnet-intake-writer-{n}")
            for n in range(self.writers)
        ]

    async def stop(self) -> None:
        """Write what is queued, then stop."""
        if not self._tasks:
            return
        await self._queue.join()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        while self._kept:
            with contextlib.suppress(Exception):
                await self._kept.pop().close()

    async def store(self, row: dict) -> bool:
        """Queue one row and wait until it is committed; True if its ap_id was new."""
        reason = unstorable_reason(row)
        if reason is not None:
            raise Unstorable(reason)
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        await self._queue.put((row, future))
        return await future

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._write(batch)
            except Exception:
                log.warning("storing %d received activities failed; one by one", len(batch))
                await self._write_each(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[AsyncConnection]:
        if self.engine.dialect.name == "sqlite":  # one writer anyway; it keeps its own BEGIN
            async with self.engine.begin() as connection:
                yield connection
            return
        # Each writing task keeps a connection: taking one from the pool and handing it back
        # costs two more waits for a busy event loop per batch.
        connection = self._kept.pop() if self._kept else await self._open()
        try:
            yield connection
        except BaseException:
            # A failed or interrupted statement may leave the connection unusable.
            with contextlib.suppress(Exception):
                await connection.close()
            raise
        self._kept.append(connection)

    async def _open(self) -> AsyncConnection:
        connection = await self.engine.connect()
        # One INSERT statement is atomic on its own: without BEGIN and COMMIT around it, a batch
        # costs one round trip instead of three, and each is a wait for a busy event loop.
        return await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def _write(self, batch: list[tuple[dict, asyncio.Future[bool]]]) -> None:
        first: dict[str, dict] = {}
        for row, _future in batch:
            first.setdefault(row["ap_id"], row)  # a repeat inside one batch is a duplicate
        # Sorted, so two batches committing at once take their row locks in the same order.
        rows = [first[ap_id] for ap_id in sorted(first)]
        async with self._connection() as connection:
            new_ids = await store_batch(connection, rows)
        for row, future in batch:
            is_new = row["ap_id"] in new_ids and first[row["ap_id"]] is row
            if not future.done():
                future.set_result(is_new)

    async def _write_each(self, batch: list[tuple[dict, asyncio.Future[bool]]]) -> None:
        for row, future in batch:
            if future.done():
                continue
            try:
                async with self._connection() as connection:
                    is_new = bool(await store_batch(connection, [row]))
            except Exception as error:
                log.exception("storing received activity %r failed", row["ap_id"][:200])
                future.set_exception(error)
            else:
                future.set_result(is_new)
