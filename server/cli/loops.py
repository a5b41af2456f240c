"""The event loop `copnet serve` and `copnet worker` run on: asyncio's own, or uvloop.

uvloop (libuv underneath) is optional: COPNET_EVENT_LOOP=uvloop with `copnet[uvloop]`
installed; everything else in copnet is plain asyncio and works on either loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from server.settings import Settings

T = TypeVar("T")


def loop_factory(settings: Settings) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """How to make the loop the settings ask for (None: asyncio's default)."""
    if settings.event_loop == "uvloop":
        import uvloop

        return uvloop.new_event_loop
    return None


def run(settings: Settings, coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on the configured loop."""
    with asyncio.Runner(loop_factory=loop_factory(settings)) as runner:
        return runner.run(coroutine)
