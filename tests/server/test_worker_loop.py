"""The workers' loop: batches until idle, sleeps, wakes on demand, stops cleanly."""

from __future__ import annotations

import asyncio

from server.workers.loop import Wakeable


class Counting(Wakeable):
    def __init__(self, work: list[int]):
        self.work = work
        self.calls = 0
        self.idle = asyncio.Event()

    async def run_once(self) -> int:
        self.calls += 1
        if self.work:
            return self.work.pop(0)
        self.idle.set()
        if self.calls > 10:
            raise RuntimeError("a failing batch must not end the loop")
        return 0


async def test_loop_drains_sleeps_wakes_and_stops():
    worker = Counting([3, 2])
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop, poll=3600))
    await asyncio.wait_for(worker.idle.wait(), 5)
    assert worker.calls == 3  # two busy batches, then one empty look
    worker.idle.clear()
    worker.work.append(1)
    worker.wake()
    await asyncio.wait_for(worker.idle.wait(), 5)
    assert worker.calls == 5
    stop.set()
    await asyncio.wait_for(task, 5)


async def test_a_failing_batch_is_logged_and_the_loop_goes_on(caplog):
    worker = Counting([])
    worker.calls = 11
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop, poll=0.01))
    await asyncio.wait_for(worker.idle.wait(), 5)
    worker.idle.clear()
    await asyncio.wait_for(worker.idle.wait(), 5)
    stop.set()
    await asyncio.wait_for(task, 5)
    assert "batch failed" in caplog.text
