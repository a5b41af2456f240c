"""Two worker processes share one PostgreSQL queue and never POST the same row twice.

The worker side of this scenario is this module run as a script:
`python -m tests.scenarios.test_two_workers DATABASE_URL SINK_PORT` prints `ready`, waits for a
line on stdin, drains the queue and prints how many rows it handled.
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import select

from federation.inbox_client import InboxClient
from federation.keys import generate_rsa_keypair
from federation.signature_header import signature_from_headers
from federation.signatures import verify_request
from models.actors import Actor
from models.database import create_engine, session_factory
from models.deliveries import DeliveryCounts, delivery_counts, enqueue
from models.outgoing import Delivery
from server.urls import Urls
from server.workers.delivery import DeliveryWorker

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://copnet.test"
HOSTS = [f"h{n:02d}.sink.test" for n in range(50)]
PER_HOST = 40  # 50 hosts x 40 inboxes = 2,000 deliveries
ACTIVITY = f"{BASE}/activities/fan-out"


@pytest.fixture
def postgresql_url(_postgresql_databases):
    url = _postgresql_databases.create()
    yield url
    _postgresql_databases.drop(url)


class Sink:
    """Every remote inbox at once: verifies signatures and counts POSTs per (activity, inbox)."""

    def __init__(self, public_pem: str) -> None:
        self.public_pem = public_pem
        self.received: Counter[tuple[str, str]] = Counter()
        self.bad: list[str] = []
        self.app = web.Application()
        self.app.router.add_post("/{tail:.*}", self._post)

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.read()
        try:
            parsed = signature_from_headers(request.headers)
            verify_request(
                "POST", request.path_qs, request.headers, parsed, self.public_pem, body=body
            )
        except Exception as exc:
            self.bad.append(repr(exc))
            return web.Response(status=401)
        activity_id = (await request.json())["id"]
        self.received[(activity_id, f"{request.host}{request.path}")] += 1
        return web.Response(status=202)


async def seed(url: str, port: int, keys: tuple[str, str]) -> list[str]:
    engine = create_engine(url)
    inboxes = [f"http://{h}:{port}/users/u{n}/inbox" for h in HOSTS for n in range(PER_HOST)]
    async with session_factory(engine)() as session:
        sender = Actor(
            type="Group",
            local_name="nursing",
            username="nursing",
            public_key_pem=keys[1],
            private_key_pem=keys[0],
        )
        session.add(sender)
        await session.flush()
        await enqueue(
            session,
            actor_id=sender.id,
            ap_id=ACTIVITY,
            type_="Announce",
            document={"id": ACTIVITY, "type": "Announce"},
            inboxes=inboxes,
        )
        await session.commit()
    await engine.dispose()
    return inboxes


async def spawn_worker(url: str, port: int) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.scenarios.test_two_workers",
        url,
        str(port),
        cwd=ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    assert line == b"ready\n", (line, await process.stderr.read())
    return process


async def finish(process: asyncio.subprocess.Process) -> int:
    out, err = await asyncio.wait_for(process.communicate(b"go\n"), timeout=120)
    assert process.returncode == 0, err.decode()
    return int(out)


async def test_two_worker_processes_on_one_postgresql_send_each_row_exactly_once(
    postgresql_url, aiohttp_server
):
    keys = generate_rsa_keypair()
    sink = Sink(keys[1])
    server = await aiohttp_server(sink.app)
    inboxes = await seed(postgresql_url, server.port, keys)
    assert len(inboxes) == 2000

    workers = [await spawn_worker(postgresql_url, server.port) for _ in range(2)]
    handled = await asyncio.gather(*(finish(w) for w in workers))

    assert sink.bad == []
    assert sum(handled) == 2000
    assert all(n > 0 for n in handled), f"one worker did everything: {handled}"
    expected = {(ACTIVITY, inbox.removeprefix("http://")) for inbox in inboxes}
    assert set(sink.received) == expected
    assert max(sink.received.values()) == 1
    engine = create_engine(postgresql_url)
    async with session_factory(engine)() as session:
        assert await delivery_counts(session) == DeliveryCounts(done=2000)
        attempts = set(await session.scalars(select(Delivery.attempts)))
    await engine.dispose()
    assert attempts == {1}


async def _work(url: str, port: int) -> int:
    engine = create_engine(url)
    host_map = dict.fromkeys(HOSTS, "127.0.0.1")
    async with InboxClient(
        allow_private=True, host_map=host_map, user_agent="copnet-test"
    ) as client:
        worker = DeliveryWorker(engine, session_factory(engine), client, Urls(BASE), batch=100)
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        handled = 0
        while batch := await worker.run_once():
            handled += batch
        worker.close()
    await engine.dispose()
    return handled


if __name__ == "__main__":
    print(asyncio.run(_work(sys.argv[1], int(sys.argv[2]))), flush=True)
