"""`copnet worker`: the application's workers without its HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from aiohttp import web

from server.app import create_app
from server.cli.heap import freeze_startup_objects
from server.settings import Settings


async def run_worker_process(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    """Start the app's cleanup contexts (database, client, workers) and wait for a signal."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    runner = web.AppRunner(create_app(settings))
    await runner.setup()  # runs startup: the workers start here
    freeze_startup_objects()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
