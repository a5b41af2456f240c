"""The long inbox fuzz: a million or more mutated, signed activities at a running copnet.

Run by hand, from the repository root (it uses the test harness in tests/)::

    .venv/bin/python -m bench.fuzz [--count 1000000] [--seed 1] [--database sqlite|postgresql]

The same bodies and checks as tests/fuzz/test_inbox_fuzz.py (see tests/fuzz/harness.py), for
as long as asked: copnet and a fake fediverse are served on loopback, the intake worker drains
the queue after every 500 bodies. Prints, every `--every` bodies and at the end: bodies/s, the
answers by status, 5xx answers, logged errors and tracebacks, received rows by state, RSS and
open files. Exits 1 if anything answered 5xx, logged a traceback, or left a row unfinished.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestServer

from tests.fuzz.harness import FuzzResult, TracebackCatcher, fuzz, row_states, unfinished
from tests.support.databases import SqliteDatabases, open_postgres
from tests.support.fakeremote import FakeFediverse
from tests.support.instances import start_copnet


async def serve(app, port: int | None = None) -> TestServer:
    """Serve an aiohttp app on loopback (what pytest's aiohttp_server does)."""
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    return server


def rss_mb() -> float:
    """Resident memory of this process now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def open_files() -> int:
    """File descriptors this process holds."""
    return len(os.listdir("/proc/self/fd"))


async def run(args, database_url: str) -> int:
    fake = await FakeFediverse().start(serve)
    running = await start_copnet(serve, database_url, fake, host="copnet.test")
    cop = await running.community("nursing", "Nursing")
    catcher = TracebackCatcher()
    logging.getLogger().addHandler(catcher)
    started = time.monotonic()
    last = [0]

    def progress(result: FuzzResult) -> None:
        fake.received.clear()  # the fake keeps what copnet delivered; not needed here
        fake.gets.clear()
        if result.sent - last[0] < args.every and result.sent < args.count:
            return
        last[0] = result.sent
        rate = result.sent / (time.monotonic() - started)
        statuses = " ".join(f"{s}:{n}" for s, n in sorted(result.statuses.items()))
        print(
            f"{result.sent:>9} bodies  {rate:6.0f}/s  {statuses}  "
            f"logged errors {catcher.count}  RSS {rss_mb():.0f} MB  files {open_files()}",
            flush=True,
        )

    try:
        result = await fuzz(running, fake, cop, count=args.count, seed=args.seed, progress=progress)
    finally:
        logging.getLogger().removeHandler(catcher)
    states = await row_states(running.app)
    elapsed = time.monotonic() - started
    rate = result.sent / elapsed
    print(f"\n{result.sent} bodies in {elapsed:.0f} s ({rate:.0f}/s), seed {args.seed}")
    print("answers         ", dict(sorted(result.statuses.items())))
    print("received rows   ", dict(states))
    print("5xx answers     ", sum(n for s, n in result.statuses.items() if s >= 500))
    print("logged errors   ", catcher.count)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS         {peak:.0f} MB, open files {open_files()}")
    for status, reason, body in result.server_errors[:5]:
        print(f"\n{status} {reason}\n  body: {body[:300]!r}")
    print("commonest refusals:")
    for (status, reason), n in result.reasons.most_common(args.reasons):
        print(f"  {n:>8}  {status} {reason[:110]}")
    for row in await unfinished(running.app):
        print("unfinished row  ", row)
    if catcher.records:
        print("\nfirst logged errors:\n" + catcher.summary())
    await running.client.close()
    failed = result.server_errors or catcher.count or states.get("pending", 0)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--reasons", type=int, default=15, help="refusal reasons to list")
    parser.add_argument("--every", type=int, default=10_000, help="print figures this often")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the catcher sees errors; keep stderr quiet
    if args.database == "sqlite":
        databases = SqliteDatabases(Path(tempfile.mkdtemp(prefix="copnet-fuzz-")))
    else:
        databases = open_postgres()
    url = databases.create()
    try:
        return asyncio.run(run(args, url))
    finally:
        databases.drop(url)
        databases.close()


if __name__ == "__main__":
    sys.exit(main())
