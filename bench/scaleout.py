"""Scale-out for bench/fanout.py: one fan-out delivered by N worker processes on one database.

Each process runs a DeliveryWorker the way `copnet worker` does (its own engine, inbox client
and signing threads); they share the deliveries table and claim rows with leases. The parent
starts them, lets them go at once, and waits until no delivery is pending; it measures the wall
time, the processes' CPU time (they are its children) and the PostgreSQL backends' CPU time.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
import time

import checkout  # noqa: F401  (this checkout's code before an installed copnet)
from sqlalchemy import func, select

from federation.inbox_client import InboxClient
from models.database import create_engine, session_factory
from models.outgoing import Delivery
from server.cli.heap import freeze_startup_objects
from server.urls import Urls
from server.workers.delivery import DeliveryWorker


def cpu_seconds() -> float:
    """User plus system CPU time of this process (all its threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _child(url: str, base: str, host_map: dict[str, str], ready, go, spent) -> None:
    asyncio.run(_deliver_until_none_pending(url, base, host_map, ready, go, spent))


async def _deliver_until_none_pending(url, base, host_map, ready, go, spent) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with InboxClient(allow_private=True, host_map=host_map, user_agent="bench") as poster:
        worker = DeliveryWorker(engine, sessions, poster, Urls(base))
        freeze_startup_objects()  # as `copnet worker` does once started
        ready.set()
        await asyncio.get_running_loop().run_in_executor(None, go.wait)
        before = cpu_seconds()  # start-up (imports, connections) is not delivery work
        stop = asyncio.Event()
        task = asyncio.create_task(worker.run(stop))
        while not task.done():
            await asyncio.sleep(0.05)
            async with sessions() as session:
                pending = await session.scalar(
                    select(func.count()).where(Delivery.state == "pending")
                )
            if not pending:
                stop.set()
        await task
        spent.put(cpu_seconds() - before)
        worker.close()
    await engine.dispose()


async def deliver_with_processes(
    url: str, base: str, host_map: dict[str, str], processes: int, database_cpu
) -> dict[str, float]:
    """Deliver everything pending with `processes` worker processes: wall, CPU, database CPU."""
    context = multiprocessing.get_context("spawn")
    go, spent = context.Event(), context.Queue()
    ready = [context.Event() for _ in range(processes)]
    children = [
        context.Process(target=_child, args=(url, base, host_map, ready[n], go, spent))
        for n in range(processes)
    ]
    for child in children:
        child.start()
    loop = asyncio.get_running_loop()
    for event in ready:
        await loop.run_in_executor(None, event.wait)
    database_before = database_cpu()
    started = time.perf_counter()
    go.set()
    cpu = sum([await loop.run_in_executor(None, spent.get) for _ in children])
    wall = time.perf_counter() - started
    for child in children:
        await loop.run_in_executor(None, child.join)
    failed = [child.exitcode for child in children if child.exitcode]
    if failed:
        raise RuntimeError(f"a worker process exited with {failed}")
    return {
        "wall": wall,
        "cpu": cpu,
        "database_cpu": database_cpu() - database_before,
    }
