"""Soak: copnet for N minutes at half its peak inbox rate, with fan-outs running.

Run by hand, from the repository root (it uses the fake fediverse in tests/support)::

    .venv/bin/python -m bench.soak [--minutes 10] [--database postgresql|sqlite]

copnet is served on loopback with its workers running (as `copnet serve` runs them), next to a
fake fediverse of 300 followers without shared inboxes on eight hosts. First the peak inbox
rate is measured (signed Follows, 32 in flight, for `--peak-seconds`, after one Follow from
each follower so that their keys are known); then Follows arrive at
half that rate, open loop, while every `--post-every` seconds a member's Create mentions the CoP
and so starts an Announce fan-out to every follower. Printed every `--every` seconds: requests
sent and refused, logged errors, the received and delivery queues, RSS and open files; at the
end their first and last values, so a leak shows as growth. Exits 1 on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import aiohttp
import checkout  # noqa: F401  (this checkout's code before an installed copnet)

from bench.fuzz import open_files, rss_mb, serve
from federation.keys import load_private_key
from federation.netguard import make_connector
from federation.signatures import sign_request
from models.deliveries import delivery_counts
from models.received import count_by_state
from server.app import create_app
from server.appkeys import SESSIONS
from server.settings import load_settings
from tests.fuzz.harness import TracebackCatcher
from tests.support.databases import SqliteDatabases, open_postgres
from tests.support.fakeremote import FakeFediverse, loopback_host_map
from tests.support.instances import Running, free_port

HOSTS = ("mastodon.test", "lemmy.test", "gotosocial.test", "pleroma.test", "mobilizon.test")
HOSTS += ("partner.test", "unknown.test", "copnet-b.test")
FOLLOWERS = 300


class Load:
    """Signs and sends activities, counting the answers."""

    def __init__(self, running: Running, fake, cop: str) -> None:
        self.running = running
        self.fake = fake
        self.cop = cop
        self.answers: Counter[int] = Counter()
        self.failures = 0
        self.followers = [
            fake.actor(HOSTS[n % len(HOSTS)], f"soak{n}", shared_inbox=False)
            for n in range(FOLLOWERS)
        ]
        self.keys = {actor.id: load_private_key(actor.private_pem) for actor in self.followers}
        self.next_follower = itertools.cycle(self.followers)

    async def send(self, actor, activity: dict) -> None:
        body = json.dumps(activity).encode()
        inbox = f"{self.cop}/inbox"
        headers = sign_request(
            "POST",
            inbox,
            {"Content-Type": "application/activity+json"},
            body,
            key_id=actor.key_id,
            private_key=self.keys[actor.id],
        )
        try:
            async with self.running.client.post(inbox, data=body, headers=headers) as response:
                await response.read()
                self.answers[response.status] += 1
        except Exception:
            self.failures += 1

    async def follow(self) -> None:
        actor = next(self.next_follower)
        activity_id = f"{self.fake.base(actor.host)}/soak/{uuid.uuid4()}"
        await self.send(
            actor, {"id": activity_id, "type": "Follow", "actor": actor.id, "object": self.cop}
        )

    async def post(self) -> None:
        author = self.followers[0]
        note_id = f"{self.fake.base(author.host)}/notes/{uuid.uuid4()}"
        note = {
            "id": note_id,
            "type": "Note",
            "attributedTo": author.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [self.cop],
            "content": "<p>@nursing a soak-test thread</p>",
            "tag": [{"type": "Mention", "href": self.cop, "name": "@nursing"}],
            "published": "2026-11-26T09:00:00Z",
        }
        self.fake.serve(note_id, note)
        activity = {"id": f"{note_id}/activity", "type": "Create", "actor": author.id}
        await self.send(author, {**activity, "object": note})

    @property
    def refused(self) -> int:
        return sum(n for status, n in self.answers.items() if status != 202)


async def peak_rate(load: Load, seconds: float, in_flight: int = 32) -> float:
    """Follows per second with `in_flight` requests at all times."""
    deadline = time.monotonic() + seconds
    sent = 0

    async def lane() -> None:
        nonlocal sent
        while time.monotonic() < deadline:
            await load.follow()
            sent += 1

    started = time.monotonic()
    await asyncio.gather(*(lane() for _ in range(in_flight)))
    return sent / (time.monotonic() - started)


async def queues(app) -> tuple[dict, object]:
    async with app[SESSIONS]() as session:
        return await count_by_state(session), await delivery_counts(session)


async def soak(args, database_url: str) -> int:
    fake = await FakeFediverse().start(serve)
    port = free_port()
    url = f"http://copnet.test:{port}"
    settings = load_settings(
        {},
        url=url,
        database_url=database_url,
        allow_private_addresses=True,
        run_workers=True,
        host_map=loopback_host_map(),
    )
    app = create_app(settings)
    await serve(app, port=port)
    client_connector = make_connector(allow_private=True, host_map=loopback_host_map())
    async with aiohttp.ClientSession(connector=client_connector) as client:
        running = Running(app=app, url=url, client=client)
        cop = await running.community("nursing", "Nursing")
        load = Load(running, fake, cop)
        catcher = TracebackCatcher()
        logging.getLogger().addHandler(catcher)
        # Every follower once first: the key fetches and first follows are not the steady state.
        await asyncio.gather(*(load.follow() for _ in range(FOLLOWERS)))
        peak = await peak_rate(load, args.peak_seconds)
        rate = peak / 2
        print(f"peak inbox rate {peak:.0f}/s; soaking at {rate:.0f}/s for {args.minutes} min")
        samples = await run_at(load, app, fake, rate, args, catcher)
        logging.getLogger().removeHandler(catcher)
    first, last = samples[0], samples[-1]
    print(f"\nRSS {first[0]:.0f} -> {last[0]:.0f} MB, open files {first[1]} -> {last[1]}")
    print(f"answers {dict(load.answers)}, connection failures {load.failures}")
    print(f"logged errors {catcher.count}")
    if catcher.records:
        print(catcher.summary())
    errors = load.refused + load.failures + catcher.count
    print(f"errors {errors}")
    return 1 if errors else 0


async def run_at(load: Load, app, fake, rate: float, args, catcher) -> list[tuple[float, int]]:
    interval = 1 / rate
    started = time.monotonic()
    end = started + args.minutes * 60
    next_post = next_print = started
    tasks: set[asyncio.Task] = set()
    samples = []
    for n in itertools.count():
        now = time.monotonic()
        if now >= end:
            break
        if now >= next_post:
            next_post += args.post_every
            tasks.add(asyncio.ensure_future(load.post()))
        if now >= next_print:
            next_print += args.every
            samples.append((rss_mb(), open_files()))
            fake.received.clear()
            fake.gets.clear()
            received, deliveries = await queues(app)
            print(
                f"{now - started:6.0f} s  sent {sum(load.answers.values()):>7}  "
                f"refused {load.refused}  failed {load.failures}  logged errors {catcher.count}  "
                f"received {dict(received)}  deliveries done {deliveries.done} "
                f"pending {deliveries.pending}  RSS {samples[-1][0]:.0f} MB  "
                f"files {samples[-1][1]}",
                flush=True,
            )
        tasks.add(asyncio.ensure_future(load.follow()))
        tasks = {task for task in tasks if not task.done()}
        # Open loop: the n-th request leaves at its time, whatever the answers do.
        await asyncio.sleep(max(0.0, started + (n + 1) * interval - time.monotonic()))
    await asyncio.gather(*tasks)
    samples.append((rss_mb(), open_files()))
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--peak-seconds", type=float, default=10)
    parser.add_argument("--post-every", type=float, default=5)
    parser.add_argument("--every", type=float, default=10, help="print figures this often")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    if args.database == "sqlite":
        databases = SqliteDatabases(Path(tempfile.mkdtemp(prefix="copnet-soak-")))
    else:
        databases = open_postgres()
    url = databases.create()
    try:
        return asyncio.run(soak(args, url))
    finally:
        databases.drop(url)
        databases.close()


if __name__ == "__main__":
    sys.exit(main())
