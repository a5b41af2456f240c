"""Digest benchmark: the cost of building the weekly mails for 10,000 members over 100,000 threads.

Run by hand from the repository root::

    .venv/bin/python bench/digest.py [--scale 1.0] [--sqlite] [--keep]

`--scale 0.01` is a quick smoke run (100 members, 1,000 threads). At full scale it seeds
10,000 members (accounts with verified addresses, all opted in to the Network digest, every
notification kind mailed weekly), 20 CoPs, 100,000 threads with 200,000 replies (a quarter of
them this week) and 5 notifications per member, then measures, each in its own transaction as
the scheduler runs them:

1. the weekly Network digest (`server.mail.network_mail`): the week's facts read once over all
   threads, then one mail per member rendered and queued as a mail job, a batch of 500 members
   per transaction (`network_batch`), as the scheduler's job runs them;
2. the weekly notification digest (`server.mail.notify_jobs.digest_batch`): each member's
   unmailed notifications described and mailed, then stamped, 500 members per transaction.

For each it prints mails queued, rows/s, wall time and the peak RSS seen while it ran (sampled
every 50 ms) next to the RSS before it: a flat line means batches, not the whole Network, are
held in memory. Target: each under a minute on 2 cores. Sending is not measured: that is the
mail server's time, spread over the jobs worker.

The database is a throwaway PostgreSQL database on COPNET_BENCH_POSTGRES (default
postgresql://postgres@127.0.0.1:5432/postgres), or a SQLite file with `--sqlite`; it is dropped
afterwards unless `--keep`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import asyncpg
import checkout  # noqa: F401  (this checkout's code before an installed copnet)
from sqlalchemy import func, insert, select

from models import notifications as kinds
from models.accounts import Account
from models.actors import Actor
from models.base import utcnow
from models.communities import create_community
from models.database import create_engine, session_factory, write_session_factory
from models.jobs import Job
from models.mail import WEEKLY, MailPreference, MailProfile
from models.migrate import upgrade
from models.notifications import Notification
from models.posts import Post
from server.mail.network_mail import network_batch, this_week
from server.mail.notify_jobs import digest_batch
from server.settings import load_settings
from server.urls import Urls

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
MEMBERS, THREADS, REPLIES_PER_THREAD, COPS, NOTIFICATIONS_EACH = 10_000, 100_000, 2, 20, 5
CHUNK = 5_000
TARGET_SECONDS = 60.0


def log(message: str) -> None:
    print(f"[digest] {message}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def chunks(session, table, rows_of, total: int) -> None:
    for start in range(0, total, CHUNK):
        await session.execute(
            insert(table), [rows_of(i) for i in range(start, min(start + CHUNK, total))]
        )


async def seed(sessions, scale: float) -> dict:
    members, threads = max(int(MEMBERS * scale), 10), max(int(THREADS * scale), 100)
    now = utcnow()
    started = time.monotonic()
    async with sessions() as session:
        cops = []
        for index in range(COPS):
            community = await create_community(session, f"cop_{index}", title=f"CoP number {index}")
            cops.append(community.actor_id)
        await session.commit()
        first = (await session.scalar(select(func.max(Actor.id)))) + 1
        person = lambda i: {  # noqa: E731
            "id": first + i,
            "type": "Person",
            "local_name": f"member_{i}",
            "username": f"member_{i}",
            "display_name": f"Member {i}",
            "public_key_pem": "-",
        }
        await chunks(session, Actor, person, members)
        await chunks(
            session,
            Account,
            lambda i: {
                "actor_id": first + i,
                "email": f"member_{i}@ward.example",
                "password_hash": "-",
            },
            members,
        )
        await chunks(
            session,
            MailProfile,
            lambda i: {
                "account_id": first + i,
                "verified_email": f"member_{i}@ward.example",
                "network_digest": True,
                "unsubscribe_key": f"{i:064x}",
                "created_at": now,
            },
            members,
        )
        for kind in kinds.KINDS:
            await chunks(
                session,
                MailPreference,
                lambda i, kind=kind: {
                    "account_id": first + i,
                    "kind": kind,
                    "delivery": WEEKLY,
                },
                members,
            )
        first_post = (await session.scalar(select(func.max(Post.id)))) or 0
        old = now - timedelta(days=60)
        await chunks(
            session,
            Post,
            lambda i: {
                "id": first_post + 1 + i,
                "community_id": cops[i % COPS],
                "author_id": first + i % members,
                "title": f"Thread {i} about handovers and rotas",
                "published": old,
                "last_activity_at": old,
            },
            threads,
        )
        replies = threads * REPLIES_PER_THREAD
        await chunks(
            session,
            Post,
            lambda i: {
                "id": first_post + 1 + threads + i,
                "community_id": cops[i % threads % COPS],
                "author_id": first + i % members,
                "thread_id": first_post + 1 + i % threads,
                "parent_id": first_post + 1 + i % threads,
                "depth": 1,
                "source": "A reply",
                "published": now - timedelta(days=1 + (i % 28)),
                "last_activity_at": now,
            },
            replies,
        )
        cycle = [kinds.REPLY, kinds.MENTION, kinds.NEW_THREAD, kinds.WATCHED_REPLY, kinds.LIKE]
        await chunks(
            session,
            Notification,
            lambda i: {
                "account_id": first + i % members,
                "kind": cycle[i % len(cycle)],
                "actor_id": first + (i + 1) % members,
                "post_id": first_post + 1 + i % threads,
                "detail": "",
                "created_at": now - timedelta(days=i % 6),
            },
            members * NOTIFICATIONS_EACH,
        )
        await session.commit()
    seconds = time.monotonic() - started
    log(f"seeded {members} members, {threads} threads, {replies} replies in {seconds:.1f} s")
    return {"members": members, "threads": threads, "replies": replies}


async def batches(sessions, run_batch) -> int:
    """Run batch after batch, each in its own transaction, as the digest jobs do."""
    after, total = 0, 0
    while True:
        async with sessions() as session:
            queued, last = await run_batch(session, after)
            await session.commit()
        if last is None:
            return total
        total, after = total + queued, last


async def network_digest(sessions, settings, urls, now) -> int:
    async with sessions() as session:
        week = await this_week(session, urls, now)
    return await batches(
        sessions, lambda s, after: network_batch(s, settings, urls, now, week, after=after)
    )


async def measured(what: str, run) -> dict:
    before = peak = rss_mb()
    done = asyncio.Event()

    async def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb())
            await asyncio.sleep(0.05)

    sampler = asyncio.create_task(sample())
    started = time.monotonic()
    queued = await run()
    wall = time.monotonic() - started
    done.set()
    await sampler
    return {"what": what, "mails": queued, "wall": wall, "before": before, "peak": peak}


async def bench(args) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="copnet-digest-"))
    name = f"copnet_bench_digest_{os.getpid()}"
    server = os.environ.get("COPNET_BENCH_POSTGRES", DEFAULT_POSTGRES)
    if args.sqlite:
        url = f"sqlite+aiosqlite:///{workdir / 'digest.sqlite3'}"
    else:
        admin = await asyncpg.connect(server)
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.close()
        url = (
            server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + "/" + name
        )
    engine = create_engine(url)
    try:
        await upgrade(engine)
        figures = await seed(session_factory(engine), args.scale)
        settings = load_settings({}, url="https://copnet.example")
        urls, now, sessions = Urls(settings.url), utcnow(), write_session_factory(engine)
        weekly = lambda s, after: digest_batch(s, settings, urls, WEEKLY, now, after=after)  # noqa: E731
        results = [
            await measured("Network digest", lambda: network_digest(sessions, settings, urls, now)),
            await measured("weekly notification digest", lambda: batches(sessions, weekly)),
        ]
        async with sessions() as session:
            jobs = await session.scalar(select(func.count()).select_from(Job))
        report(figures, results, jobs, "SQLite" if args.sqlite else "PostgreSQL")
    finally:
        await engine.dispose()
        if not args.sqlite and not args.keep:
            admin = await asyncpg.connect(server)
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def report(figures: dict, results: list[dict], jobs: int, database: str) -> None:
    print(
        f"\ndigest build on {database}: {figures['members']} members, "
        f"{figures['threads']} threads, {figures['replies']} replies; {jobs} mail jobs queued"
    )
    for row in results:
        rate = row["mails"] / row["wall"] if row["wall"] else 0.0
        verdict = "ok" if row["wall"] < TARGET_SECONDS else "OVER TARGET"
        print(
            f"  {row['what']:<28} {row['mails']:>7} mails  {rate:>8.0f} rows/s (mail jobs)  "
            f"wall {row['wall']:6.1f} s  RSS {row['before']:.0f} -> peak {row['peak']:.0f} MB"
            f"  ({verdict}: target < {TARGET_SECONDS:.0f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file, not PostgreSQL")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
