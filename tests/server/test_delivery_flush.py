"""Writing delivery outcomes while POSTs go on: lanes that waited for a slow write do not each
write the one or two outcomes gathered meanwhile."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.database import create_engine, session_factory
from models.deliveries import ClaimedBatch, Outcome
from server.workers import delivery_batch
from server.workers.delivery_batch import FLUSH_ROWS, BatchRun


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


def outcomes(first: int, count: int) -> list[Outcome]:
    return [
        Outcome(delivery_id=n, state="done", attempts=1, status=202)
        for n in range(first, first + count)
    ]


async def test_lanes_queued_behind_a_slow_write_leave_a_few_outcomes_for_later(
    sessions, monkeypatch
):
    written: list[int] = []
    writes: asyncio.Queue[asyncio.Event] = asyncio.Queue()  # each write waits for its event

    async def slow_write(session, rows, *, now, lease_until):
        gate = asyncio.Event()
        writes.put_nowait(gate)
        await gate.wait()
        written.append(len(rows))

    monkeypatch.setattr(delivery_batch, "record_outcomes", slow_write)
    now = datetime.now(UTC)
    run = BatchRun(
        batch=ClaimedBatch(deliveries=[], hosts={}, lease_until=now + timedelta(minutes=5)),
        hosts={},
        deadline=0.0,
        dispatched=asyncio.Event(),
    )

    def flush() -> asyncio.Task:
        return asyncio.ensure_future(run.flush(sessions, lambda: now))

    run.outcomes += outcomes(0, FLUSH_ROWS)
    first = flush()
    first_write = await writes.get()
    # POSTs go on while the first write is slow: enough to make two lanes wait for it.
    run.outcomes += outcomes(FLUSH_ROWS, 2 * FLUSH_ROWS)
    second, third = flush(), flush()
    await asyncio.sleep(0.01)
    first_write.set()
    await first
    second_write = await writes.get()
    run.outcomes += outcomes(3 * FLUSH_ROWS, 1)  # one more finished during the second write
    second_write.set()

    async def let_later_writes_go() -> None:
        while True:
            (await writes.get()).set()

    later = asyncio.ensure_future(let_later_writes_go())
    await asyncio.gather(second, third)
    later.cancel()
    assert written == [FLUSH_ROWS, 2 * FLUSH_ROWS]
    assert len(run.outcomes) - run.flushed == 1  # left for the next flush or the batch's end
