"""The loop every worker runs: a batch, then sleep until woken, stopped or the poll interval."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


class Wakeable:
    """A worker whose `run()` repeats `run_once()`; `wake()` cuts its sleep short."""

    name = "worker"
    poll = 1.0  # seconds between looks for due work when nobody wakes the worker
    log = logging.getLogger(__name__)

    def _wake_event(self) -> asyncio.Event:
        event = getattr(self, "_wake", None)
        if event is None:
            event = self._wake = asyncio.Event()
        return event

    def wake(self) -> None:
        """Look for due work now instead of at the next poll."""
        self._wake_event().set()

    run_once: Callable[[], Awaitable[int]]

    async def run(self, stop: asyncio.Event, *, poll: float | None = None) -> None:
        """Run batches until `stop` is set; sleep while there is nothing to do."""
        poll = self.poll if poll is None else poll
        wake = self._wake_event()
        while not stop.is_set():
            try:
                handled = await self.run_once()
            except Exception:
                self.log.exception("%s batch failed; retrying shortly", self.name)
                handled = 0
            if handled:
                continue
            wake.clear()
            waiters = {asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())}
            _done, pending = await asyncio.wait(
                waiters, timeout=poll, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
