"""Upload benchmark: how long the upload of a 20 MB PDF keeps its member waiting.

Run by hand from the repository root::

    .venv/bin/python bench/upload.py [--megabytes 20] [--uploads 3]

Creates a throwaway PostgreSQL database on the server named by COPNET_BENCH_POSTGRES (default
postgresql://postgres@127.0.0.1:5432/postgres), serves copnet from this process on loopback
(workers off, media in a temporary folder), signs a member in and uploads `--uploads` PDFs of
`--megabytes` MB each (200 pages, each with about 1,000 characters of text and an
image making up the size; each PDF different) to a CoP's documents page,
timing each POST until its 303 answer, in two modes in one run:

- before: text extraction inline in the request, as copnet did before extraction became a
  job (the inline limit, server.services.document_text.INLINE_BYTES, raised above the size);
- after: the upload stores the file and schedules the extraction job; the job is then run as
  a worker runs it (SchedulerWorker.run_once) and timed too: the time until the document is
  findable by its contents.

Prints p50 and max per mode. Drops the database at the end (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import tempfile
import time
import uuid

import aiohttp
import asyncpg
import checkout  # noqa: F401  (this checkout's code before an installed copnet)
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.engine import make_url

from models.account_queries import create_account
from models.communities import create_community
from models.database import create_engine
from models.follows import upsert_follow
from models.jobs import DONE, Job
from models.migrate import upgrade
from models.web_sessions import create_session
from server.app import create_app
from server.appkeys import SCHEDULER, SESSIONS
from server.services import document_text
from server.settings import load_settings

SERVER = os.environ.get("COPNET_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
PAGES = 200


def big_pdf(megabytes: float, tag: str) -> bytes:
    """A valid PDF of about `megabytes` MB, shaped like an illustrated report: PAGES pages, each
    with about 1,000 characters of text and an image (random bytes) making up the size."""
    image_bytes = int(megabytes * 1024 * 1024 / PAGES)
    line = f"({tag} wound care audit: handover notes and the falls prevention plan) Tj T* "
    text = "BT /F1 9 Tf 11 TL 36 800 Td " + line * 13 + "ET q 200 0 0 200 36 300 cm /Im1 Do Q"
    content = text.encode()
    font = 3 + 3 * PAGES
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(PAGES))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {PAGES} >>".encode())
    side = int((image_bytes / 3) ** 0.5)
    for index in range(PAGES):
        page, stream, image = 3 + 3 * index, 4 + 3 * index, 5 + 3 * index
        resources = f"<< /Font << /F1 {font} 0 R >> /XObject << /Im1 {image} 0 R >> >>"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {stream} 0 R "
            f"/Resources {resources} >>".encode()
        )
        assert page == len(objects)
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        pixels = os.urandom(side * side * 3)
        objects.append(
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
            b"/BitsPerComponent 8 /Length %d >>\nstream\n%s\nendstream"
            % (side, side, len(pixels), pixels)
        )
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def member_cookie(app: web.Application) -> tuple[str, str]:
    """A member of the CoP `bench`: (cookie header, CSRF token)."""
    async with app[SESSIONS]() as session:
        community = await create_community(session, "bench", title="Bench", summary_html="")
        account = await create_account(session, "uploader", "not-a-hash", display_name="Up")
        await upsert_follow(
            session,
            followed_id=community.actor_id,
            follower_id=account.actor_id,
            state="accepted",
            activity_ap_id=None,
        )
        token, row = await create_session(session, account.actor_id)
        await session.commit()
    return f"copnet_session={token}", row.csrf_token


async def upload(client, base: str, cookie: str, csrf: str, data: bytes, title: str) -> float:
    form = aiohttp.FormData()
    form.add_field("csrf_token", csrf)
    form.add_field("title", title)
    form.add_field("file", data, filename=f"{title}.pdf", content_type="application/pdf")
    started = time.perf_counter()
    async with client.post(
        f"{base}/c/bench/documents", data=form, headers={"Cookie": cookie}, allow_redirects=False
    ) as response:
        await response.read()
    elapsed = time.perf_counter() - started
    if response.status != 303:
        raise SystemExit(f"FAIL: the upload answered {response.status}")
    return elapsed


async def run(args, database_url: str) -> dict[str, list[float]]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    media = tempfile.mkdtemp(prefix="copnet-upload-bench-")
    settings = load_settings(
        {},
        url=base,
        database_url=database_url,
        run_workers=False,
        media_dir=media,
        max_upload_mb=str(max(64, args.megabytes * 2)),
    )
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    figures: dict[str, list[float]] = {"before": [], "after": [], "job": []}
    inline = document_text.INLINE_BYTES
    try:
        cookie, csrf = await member_cookie(app)
        pdfs = [big_pdf(args.megabytes, uuid.uuid4().hex[:8]) for _ in range(2 * args.uploads)]
        print(f"PDF size {len(pdfs[0]) / 1024 / 1024:.1f} MB, {PAGES} pages", flush=True)
        timeout = aiohttp.ClientTimeout(total=600)
        async with aiohttp.ClientSession(timeout=timeout) as client:
            document_text.INLINE_BYTES = 1 << 40  # before: every file extracted in the request
            for n in range(args.uploads):
                figures["before"].append(
                    await upload(client, base, cookie, csrf, pdfs[n], f"before-{n}")
                )
            document_text.INLINE_BYTES = inline  # after: a job
            for n in range(args.uploads):
                pdf = pdfs[args.uploads + n]
                await run_due_jobs(app)  # the sweeps and notifications due already: not timed
                figures["after"].append(await upload(client, base, cookie, csrf, pdf, f"after-{n}"))
                started = time.perf_counter()
                await run_due_jobs(app)
                figures["job"].append(time.perf_counter() - started)
                await require_extracted(app)
    finally:
        document_text.INLINE_BYTES = inline
        await runner.cleanup()
    return figures


async def run_due_jobs(app: web.Application) -> None:
    """Run every job due now, as a worker would, until none is left."""
    while await app[SCHEDULER].run_once():
        pass


async def require_extracted(app: web.Application) -> None:
    """Fail the run unless every text extraction job has finished."""
    async with app[SESSIONS]() as session:
        states = list(
            await session.scalars(select(Job.state).where(Job.kind == document_text.DOCUMENT_TEXT))
        )
    if not states or any(state != DONE for state in states):
        raise SystemExit(f"FAIL: text extraction jobs not all done: {states}")


async def main(args) -> None:
    name = f"copnet_bench_upload_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(SERVER).set(drivername="postgresql+asyncpg", database=name)
    database_url = url.render_as_string(hide_password=False)
    try:
        engine = create_engine(database_url)
        await upgrade(engine)
        await engine.dispose()
        figures = await run(args, database_url)
    finally:
        admin = await asyncpg.connect(SERVER)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
    print()
    print(f"upload of a {args.megabytes} MB PDF (load average {os.getloadavg()[0]:.2f})")
    labels = {
        "before": "upload, text extracted inline (before)",
        "after": "upload, extraction in a job (after)",
        "job": "the extraction job (until searchable)",
    }
    for key, label in labels.items():
        values = [v * 1000 for v in figures[key]]
        print(f"  {label:42} p50 {statistics.median(values):8.0f} ms  max {max(values):8.0f} ms")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=float, default=20.0, help="size of each PDF (20)")
    parser.add_argument("--uploads", type=int, default=3, help="uploads per mode (3)")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
