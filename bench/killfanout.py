"""kill -9 during a fan-out: how many inboxes get the Announce twice after the restart.

Run by hand::

    .venv/bin/python bench/killfanout.py [--inboxes 2000] [--hosts 200] [--delay 0.005]

One Announce is queued for `--inboxes` inboxes on `--hosts` hosts (names resolving to 127.0.0.1,
served by a counting sink in this process that answers 202 after `--delay` s). A delivery
worker runs in a child process and is killed with SIGKILL when half of the inboxes have the
Announce; the leases it held are then expired (as five minutes of waiting would) and a new
worker finishes the fan-out. Printed: POSTs sent before the kill, rows recorded as done at the
kill, and inboxes that got the Announce twice. It runs twice: `before` writes outcomes only at
the end of each claimed batch (copnet before outcomes were flushed in small batches), `after`
is the worker as it is. Uses a throwaway database on postgresql://postgres@127.0.0.1:5432.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import sys
import uuid
from collections import Counter

import asyncpg
import checkout  # noqa: F401  (this checkout's code before an installed copnet)
from aiohttp import web
from sqlalchemy import func, select, update

from federation.inbox_client import InboxClient
from models.communities import create_community
from models.database import create_engine, session_factory
from models.deliveries import enqueue
from models.migrate import upgrade
from models.outgoing import Delivery
from server.urls import Urls

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def host_name(n: int) -> str:
    """The n-th fake host."""
    return f"h{n:04d}.kill.test"


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def child(url: str, hosts: int, old: bool) -> None:
    """A delivery worker that runs until killed."""
    from server.workers import delivery, delivery_batch

    if old:  # outcomes written only at the end of each claimed batch
        delivery_batch.FLUSH_ROWS, delivery_batch.FLUSH_SECONDS = 10**9, 1e9
    engine = create_engine(url)
    host_map = {host_name(n): "127.0.0.1" for n in range(hosts)}
    async with InboxClient(allow_private=True, host_map=host_map, user_agent="bench") as client:
        worker = delivery.DeliveryWorker(
            engine, session_factory(engine), client, Urls("http://copnet.kill.test")
        )
        await worker.run(asyncio.Event())


class Sink:
    """Counts the POSTs each inbox receives."""

    def __init__(self, delay: float, kill_at: int) -> None:
        self.delay = delay
        self.kill_at = kill_at
        self.reached = asyncio.Event()
        self.received: Counter[str] = Counter()

    async def post(self, request: web.Request) -> web.Response:
        await request.read()
        self.received[f"{request.host}{request.path}"] += 1
        if sum(self.received.values()) >= self.kill_at:
            self.reached.set()
        await asyncio.sleep(self.delay)
        return web.Response(status=202)


async def done_rows(sessions) -> int:
    async with sessions() as session:
        query = select(func.count()).select_from(Delivery).where(Delivery.state == "done")
        return int(await session.scalar(query))


def start_child(url: str, hosts: int, old: bool) -> asyncio.subprocess.Process:
    args = [sys.executable, __file__, "--child", url, "--hosts", str(hosts)]
    return asyncio.create_subprocess_exec(*(args + (["--old"] if old else [])))


async def one_run(args, old: bool) -> dict:
    name = f"copnet_kill_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    engine = create_engine(url)
    sink = Sink(args.delay, args.inboxes // 2)
    app = web.Application()
    app.router.add_post("/{tail:.*}", sink.post)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        await upgrade(engine)
        sessions = session_factory(engine)
        async with sessions() as session:
            community = await create_community(session, "nursing", title="Nursing")
            inboxes = [
                f"http://{host_name(n % args.hosts)}:{port}/users/u{n}/inbox"
                for n in range(args.inboxes)
            ]
            document = {"id": "http://copnet.kill.test/a/1", "type": "Announce"}
            await enqueue(
                session,
                actor_id=community.actor.id,
                ap_id=document["id"],
                type_="Announce",
                document=document,
                inboxes=inboxes,
            )
            await session.commit()
        worker = await start_child(url, args.hosts, old)
        await sink.reached.wait()
        os.kill(worker.pid, signal.SIGKILL)
        await worker.wait()
        sent, marked = sum(sink.received.values()), await done_rows(sessions)
        async with sessions() as session:  # the leases run out (as after five minutes)
            await session.execute(
                update(Delivery).where(Delivery.state == "pending").values(locked_until=None)
            )
            await session.commit()
        worker = await start_child(url, args.hosts, old)
        for _ in range(1500):
            if await done_rows(sessions) >= args.inboxes:
                break
            await asyncio.sleep(0.2)
        worker.terminate()
        await worker.wait()
        twice = sum(1 for n in sink.received.values() if n > 1)
        return {"sent before kill": sent, "done at kill": marked, "inboxes sent twice": twice}
    finally:
        await engine.dispose()
        await runner.cleanup()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main(args) -> None:
    print(f"{args.inboxes} inboxes on {args.hosts} hosts, killed at half; sink delay {args.delay}s")
    for label, old in (("before", True), ("after", False)):
        figures = await one_run(args, old)
        print(f"{label:>6}: " + ", ".join(f"{k} {v}" for k, v in figures.items()), flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inboxes", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.005)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--old", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.child:
        asyncio.run(child(arguments.child, arguments.hosts, arguments.old))
    else:
        asyncio.run(main(arguments))
