"""Harvest benchmark: one page with 500 revisions and 200 sources, on PostgreSQL.

Run by hand from the repository root::

    .venv/bin/python bench/harvest.py [--revisions 500] [--sources 200] [--requests 200]
                                      [--database URL]

What it does:

1. Creates a throwaway PostgreSQL database on the server named by COPNET_BENCH_POSTGRES
   (default postgresql://postgres@127.0.0.1:5432/postgres) and migrates it; or, with
   `--database URL`, adds the page to an existing migrated database (for example one kept by
   `bench/archive.py --keep`, so pages are measured beside a large archive) and removes it after.
2. Seeds a CoP, a thread with one reply per source, and a page that quotes all of them, then
   `--revisions` revisions (each changes a few lines of a body of about 400 lines).
3. Measures in process: the side-by-side diff of revision 1 against the last and of two
   neighbours (`server.services.harvest_diff`), and the render of the page with its sources
   (`server.services.harvest_render`).
4. Serves copnet on a free loopback port and measures, one request at a time after a warm-up,
   GET /h/{id} (the page), /h/{id}/history and /h/{id}/diff?from=1&to=N. Prints p50/p95/max;
   the target is page view p50 < 30 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import asyncpg
import checkout  # noqa: F401  (this checkout's code before an installed copnet)
from aiohttp import web
from sqlalchemy import delete, insert
from sqlalchemy.engine import make_url

from models.actors import create_local_actor
from models.communities import create_community
from models.database import create_engine, session_factory
from models.harvest import HarvestPage, PageRevision, PageSource
from models.harvest_queries import get_revision
from models.harvest_sources import sources_of
from models.migrate import upgrade
from models.posts import Post, add_post
from models.search_index import index_page
from server.app import create_app
from server.services.harvest_diff import side_by_side, wording_lines
from server.services.harvest_render import render_page
from server.settings import load_settings

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
WORDS = (
    "pressure ulcer heel offloading repositioning skin check moisture barrier cream dressing "
    "foam hydrocolloid audit handover night shift ward family carer consent dignity falls"
).split()


def _line(seed: int) -> str:
    return " ".join(WORDS[(seed * 7 + k) % len(WORDS)] for k in range(12)) + "."


def body_of(revision: int, source_ids: list[int]) -> str:
    """About 400 lines: sections of prose with the source markers spread through them."""
    lines = []
    for index in range(200):
        if index % 20 == 0:
            lines += [f"## Section {index // 20 + 1}", ""]
        changed = index % 50 == revision % 50
        lines.append(_line(index + (revision if changed else 0)))
        lines += ["", f"[[source:{source_ids[index % len(source_ids)]}]]", ""]
    return "\n".join(lines)


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):7.2f} ms  p95 {p95:7.2f} ms  max {ordered[-1]:7.2f} ms"


async def seed(url: str, revisions: int, sources: int) -> tuple[int, int]:
    """(page id, CoP id) of a page with its revisions and sources."""
    engine = create_engine(url)
    name = f"bench_{uuid.uuid4().hex[:8]}"
    async with session_factory(engine)() as session:
        community = await create_community(session, name, title=f"Bench {name}")
        author = await create_local_actor(session, f"{name}_p", "Person", display_name="Bench")
        root = await add_post(
            session,
            Post(community_id=community.actor_id, author_id=author.id, title="Night care"),
            None,
        )
        posts = [
            await add_post(
                session,
                Post(
                    community_id=community.actor_id,
                    author_id=author.id,
                    source=_line(n),
                    content_html=f"<p>{_line(n)}</p>",
                ),
                root,
            )
            for n in range(sources)
        ]
        page = HarvestPage(
            community_id=community.actor_id,
            title="Night repositioning",
            summary="What the wards do.",
            body="",
            revision_number=revisions,
            created_at=T0,
            updated_at=T0 + timedelta(minutes=revisions),
            announced_revision=revisions,
            announced_at=T0,
        )
        session.add(page)
        await session.flush()
        rows = [
            PageSource(
                page_id=page.id,
                post_id=post.id,
                post_url=f"https://bench.example/p/{post.id}",
                author_name="Bench",
                author_handle="@bench@bench.example",
                community_name="Bench",
                posted_at=T0,
                quote=post.source,
                harvested_at=T0,
            )
            for post in posts
        ]
        session.add_all(rows)
        await session.flush()
        source_ids = [row.id for row in rows]
        for start in range(0, revisions, 100):
            await session.execute(
                insert(PageRevision),
                [
                    {
                        "page_id": page.id,
                        "number": number,
                        "title": page.title,
                        "summary": page.summary,
                        "body": body_of(number, source_ids),
                        "note": f"revision {number}",
                        "created_at": T0 + timedelta(minutes=number),
                    }
                    for number in range(start + 1, min(revisions, start + 100) + 1)
                ],
            )
        page.body = body_of(revisions, source_ids)
        await session.flush()
        await index_page(session, page)
        await session.commit()
        page_id, community_id = page.id, community.actor_id
    await engine.dispose()
    return page_id, community_id


async def measure_in_process(url: str, page_id: int, revisions: int) -> None:
    engine = create_engine(url)
    async with session_factory(engine)() as session:
        page = await session.get(HarvestPage, page_id)
        first = await get_revision(session, page_id, 1)
        last = await get_revision(session, page_id, revisions)
        before = await get_revision(session, page_id, max(1, revisions - 1))
        sources = await sources_of(session, page_id)
    await engine.dispose()

    def timed(function, repeat: int = 20) -> list[float]:
        samples = []
        for _ in range(repeat):
            started = time.perf_counter()
            function()
            samples.append((time.perf_counter() - started) * 1000)
        return samples

    def lines(revision) -> list[str]:
        return wording_lines(revision.title, revision.summary, revision.body)

    far = timed(lambda: side_by_side(lines(first), lines(last)))
    near = timed(lambda: side_by_side(lines(before), lines(last)))
    render = timed(lambda: render_page(page.body, sources))
    print(f"page body: {len(page.body):,} characters, {len(page.body.splitlines())} lines")
    print(f"diff revision 1 -> {revisions:<4}      {percentiles(far)}")
    print(f"diff {revisions - 1} -> {revisions:<4}           {percentiles(near)}")
    print(f"render with {len(sources)} sources  {percentiles(render)}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def measure_http(url: str, page_id: int, revisions: int, requests: int) -> float:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings({}, url=base, database_url=url, run_workers=False)
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    page_p50 = 0.0
    try:
        async with aiohttp.ClientSession(base) as client:
            paths = {
                "page": f"/h/{page_id}",
                "history": f"/h/{page_id}/history",
                "diff": f"/h/{page_id}/diff?from=1&to={revisions}",
            }
            for label, path in paths.items():
                samples = []
                for attempt in range(requests + 10):
                    started = time.perf_counter()
                    async with client.get(path) as response:
                        await response.read()
                        assert response.status == 200, (path, response.status)
                    if attempt >= 10:  # warm-up
                        samples.append((time.perf_counter() - started) * 1000)
                print(f"GET {label:<8} ({requests} requests)  {percentiles(samples)}")
                if label == "page":
                    page_p50 = statistics.median(samples)
    finally:
        await runner.cleanup()
    return page_p50


def dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--revisions", type=int, default=500)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", help="an existing migrated copnet database URL")
    args = parser.parse_args()
    admin = os.environ.get("COPNET_BENCH_POSTGRES", DEFAULT_POSTGRES)
    throwaway = None
    url = args.database
    if url is None:
        throwaway = f"copnet_bench_harvest_{uuid.uuid4().hex[:8]}"
        connection = await asyncpg.connect(admin)
        await connection.execute(f'CREATE DATABASE "{throwaway}"')
        await connection.close()
        base = make_url(admin).set(drivername="postgresql+asyncpg", database=throwaway)
        url = base.render_as_string(hide_password=False)
        engine = create_engine(url)
        await upgrade(engine)
        await engine.dispose()
    page_id = None
    try:
        started = time.perf_counter()
        page_id, _community = await seed(url, args.revisions, args.sources)
        print(f"seeded {args.revisions} revisions, {args.sources} sources in ", end="")
        print(f"{time.perf_counter() - started:.1f} s")
        await measure_in_process(url, page_id, args.revisions)
        p50 = await measure_http(url, page_id, args.revisions, args.requests)
        print(f"page view p50 {p50:.2f} ms: {'within' if p50 < 30 else 'OVER'} the 30 ms target")
    finally:
        if throwaway is not None:
            connection = await asyncpg.connect(admin)
            await connection.execute(f'DROP DATABASE IF EXISTS "{throwaway}" WITH (FORCE)')
            await connection.close()
        elif page_id is not None:
            engine = create_engine(url)
            async with session_factory(engine)() as session:
                await session.execute(delete(HarvestPage).where(HarvestPage.id == page_id))
                await session.commit()
            await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
