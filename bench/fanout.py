"""Fan-out benchmark: one CoP with 10,000 remote followers on 1,000 instances, delivered.

Run by hand::

    .venv/bin/python bench/fanout.py [--followers 10000] [--instances 1000] [--verify 0.01]
                                     [--no-tls] [--prefill-rows N]

Uses the PostgreSQL database named by COPNET_BENCH_DATABASE_URL, or creates a throwaway
database on postgresql://postgres@127.0.0.1:5432/postgres and drops it afterwards.

Every follower has its own inbox; half of the instances also advertise a shared inbox, which
replaces their followers' own inboxes, so de-duplication is exercised. Hostnames like
i0001.bench.test resolve to 127.0.0.1 (make_connector's host_map), where a sink server in a
separate process answers 202 to everything and verifies a sample of the signatures.

Prints: deliveries/s through DeliveryWorker.run (as `copnet worker` runs it), the signing-only
rate with the same executor strategy, their ratio (target >= 80%), the peak RSS of this process
(target < 300 MB), and CPU time per delivery of the worker, the sink and the PostgreSQL
backends. Wall-clock rates depend on whatever else the machine runs (the load average is
printed); the CPU figures do not. From them the report derives a *projection* (computed, not
measured) of the rate and ratio to expect with every core free.

`--prefill-rows 10000000` first puts ten million finished deliveries in the table, so the
figures show whether they hold on a grown table (the growth target).

Then, unless `--no-tls`, the same fan-out again over HTTPS: the sink also listens with TLS,
with a throwaway certificate for *.bench.test made for this run and trusted only by this
run's client, so the cost of TLS per delivery (handshakes on new connections, encryption) is
measured for worker and sink rather than assumed away.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import socket
import ssl
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
import checkout  # noqa: F401  (this checkout's code before an installed copnet)
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from scaleout import deliver_with_processes  # bench/scaleout.py, beside this script
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url

from federation.content_digest import digest_sha256
from federation.inbox_client import InboxClient
from federation.keys import load_private_key
from federation.netguard import make_connector
from federation.signature_header import signature_from_headers
from federation.signatures import verify_request
from models.actors import Actor
from models.base import utcnow
from models.communities import create_community
from models.database import create_engine, session_factory
from models.deliveries import delivery_counts, enqueue
from models.follows import Follow
from models.migrate import upgrade
from server.cli.heap import freeze_startup_objects
from server.urls import Urls
from server.workers.delivery import DeliveryWorker
from server.workers.signing import sign_delivery, signing_threads

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
BASE = "https://copnet.bench"
DOMAIN = "bench.test"
AGENT = "copnet-bench/fanout"


def progress(label: str, done: int, total: int, started: float) -> None:
    """Redraw one progress line on stderr."""
    width = 30
    filled = width * done // max(total, 1)
    rate = done / max(time.perf_counter() - started, 1e-9)
    bar = "#" * filled + "." * (width - filled)
    sys.stderr.write(f"\r{label:<10} [{bar}] {done:>6}/{total} {rate:>8.0f}/s")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def host_name(n: int) -> str:
    """The hostname of the n-th fake instance."""
    return f"i{n:04d}.{DOMAIN}"


def peak_rss_mb() -> float:
    """Peak resident set size of this process (VmHWM), in MB."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the sink: every remote inbox, in its own process ---------------------------------------


def run_sink(port: int, public_pem: str, verify_fraction: float, ready, tls=None) -> None:
    """Serve 202 to every POST on 127.0.0.1:port (and over TLS on tls = (port, certificate,
    key) when given); GET /stats reports what arrived."""
    asyncio.run(_sink(port, public_pem, verify_fraction, ready, tls))


async def _sink(port: int, public_pem: str, verify_fraction: float, ready, tls) -> None:
    stats = {"requests": 0, "verified": 0, "bad_signatures": 0, "duplicates": 0}
    seen: set[bytes] = set()
    sample = random.Random(1)

    def on_request(head: bytes, body: bytes) -> bytes:
        request_line, _, header_block = head.partition(b"\r\n")
        method, target, _ = request_line.split(b" ", 2)
        if method == b"GET":
            text = json.dumps({**stats, "cpu": cpu_seconds()}).encode()
            return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text)
        headers = parse_headers(header_block)
        stats["requests"] += 1
        key = headers.get("host", "").encode() + target
        if key in seen:
            stats["duplicates"] += 1
        seen.add(key)
        if sample.random() < verify_fraction:
            stats[
                "verified" if signature_ok(target, headers, body, public_pem) else "bad_signatures"
            ] += 1
        return ACCEPTED

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SinkProtocol(on_request), "127.0.0.1", port, backlog=1024
    )
    if tls is not None:
        tls_port, certificate, key = tls
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate, key)
        await loop.create_server(
            lambda: SinkProtocol(on_request), "127.0.0.1", tls_port, backlog=1024, ssl=context
        )
    ready.set()
    async with server:
        await server.serve_forever()


ACCEPTED = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"


class SinkProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1 to read keep-alive POSTs and answer them: the remote side of the
    benchmark should cost as little CPU as possible, since real inboxes run elsewhere."""

    def __init__(self, on_request) -> None:
        self.on_request = on_request
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = content_length(head)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(self.on_request(head, body))


def content_length(head: bytes) -> int:
    """The Content-Length of a request head (0 when absent)."""
    name = b"\r\ncontent-length:"
    lowered = head.lower()
    at = lowered.find(name)
    if at < 0:
        return 0
    stop = lowered.find(b"\r\n", at + len(name))
    return int(head[at + len(name) : stop if stop >= 0 else len(head)])


def parse_headers(block: bytes) -> dict[str, str]:
    """Header lines to a dict with lower-case names."""
    headers = {}
    for line in block.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


def signature_ok(target: bytes, headers: dict[str, str], body: bytes, public_pem: str) -> bool:
    """Verify one request's signature and Digest as a remote inbox would."""
    try:
        parsed = signature_from_headers(headers)
        verify_request("POST", target.decode(), headers, parsed, public_pem, body=body)
    except Exception:
        return False
    return True


def throwaway_certificate(folder: Path) -> tuple[str, str]:
    """A self-signed certificate for *.bench.test, made now: (certificate file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"*.{DOMAIN}")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"*.{DOMAIN}")]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = folder / "sink.crt", folder / "sink.key"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(certificate_file), str(key_file)


@asynccontextmanager
async def sink_process(port: int, public_pem: str, verify_fraction: float, tls=None):
    """Start the sink in a child process; stop it on exit."""
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    process = context.Process(
        target=run_sink, args=(port, public_pem, verify_fraction, ready, tls), daemon=True
    )
    process.start()
    if not await asyncio.get_running_loop().run_in_executor(None, ready.wait, 30):
        process.terminate()
        raise RuntimeError("the sink process did not start")
    try:
        yield
    finally:
        process.terminate()
        process.join(5)


# --- database ---------------------------------------------------------------------------------


@asynccontextmanager
async def bench_database():
    """The configured database URL, or a throwaway one created and dropped around the run."""
    configured = os.environ.get("COPNET_BENCH_DATABASE_URL")
    if configured:
        yield configured.replace("postgresql://", "postgresql+asyncpg://", 1)
        return
    name = f"copnet_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(SERVER)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = make_url(SERVER).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        admin = await asyncpg.connect(SERVER)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def seed(sessions, args, port: int) -> tuple[Actor, list[str]]:
    """Create the CoP and its remote followers; return the CoP actor and the target inboxes."""
    async with sessions() as session:
        community = await create_community(session, "nursing", title="Nursing")
        await session.commit()
    cop = community.actor
    started = time.perf_counter()
    order = list(range(args.followers))
    # Followers arrive over time from all instances at once, not instance by instance.
    random.Random(7).shuffle(order)
    chunk = 1000
    for start in range(0, args.followers, chunk):
        async with sessions() as session:
            people = [follower_row(n, args.instances, port) for n in order[start : start + chunk]]
            ids = await session.scalars(insert(Actor).returning(Actor.id), people)
            follows = [{"followed_id": cop.id, "follower_id": i, "state": "accepted"} for i in ids]
            await session.execute(insert(Follow), follows)
            await session.commit()
        progress("seeding", min(start + chunk, args.followers), args.followers, started)
    async with sessions() as session:
        inboxes = await session.scalars(
            select(func.coalesce(Actor.shared_inbox_url, Actor.inbox_url))
            .join(Follow, Follow.follower_id == Actor.id)
            .where(Follow.followed_id == cop.id, Follow.state == "accepted")
            .order_by(Follow.id)
        )
        return cop, list(inboxes)


async def prefill(url: str, cop: Actor, rows: int) -> None:
    """`rows` finished deliveries already in the table (the growth target), then ANALYZE."""
    connection = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        activity = await connection.fetchval(
            "INSERT INTO outgoing_activities (ap_id, actor_id, type, in_outbox, body, digest,"
            " created_at) VALUES ($1, $2, 'Announce', false, '{}', '-', now()) RETURNING id",
            f"{BASE}/activities/old",
            cop.id,
        )
        done = 0
        while done < rows:
            chunk = min(1_000_000, rows - done)
            await connection.execute(
                "INSERT INTO deliveries (activity_id, inbox_url, host, state, attempts,"
                " next_attempt_at, last_status, last_error, created_at, finished_at)"
                " SELECT $1, 'https://old.example/inbox/' || n, 'old.example', 'done', 1,"
                " now() - interval '20 days', 202, '', now() - interval '20 days',"
                " now() - interval '20 days'"
                f" FROM generate_series({done + 1}, {done + chunk}) AS n",
                activity,
            )
            done += chunk
            sys.stderr.write(f"prefilled {done:,} of {rows:,} deliveries\n")
        await connection.execute("VACUUM ANALYZE deliveries")
    finally:
        await connection.close()


def follower_row(n: int, instances: int, port: int) -> dict:
    """One remote Person; instances with an even number advertise a shared inbox."""
    instance = n % instances
    host = host_name(instance)
    origin = f"http://{host}:{port}"
    return {
        "type": "Person",
        "ap_id": f"{origin}/users/u{n}",
        "username": f"u{n}",
        "domain": host,
        "inbox_url": f"{origin}/users/u{n}/inbox",
        "shared_inbox_url": f"{origin}/inbox" if instance % 2 == 0 else None,
        "public_key_pem": "-",
    }


# --- the measured parts -----------------------------------------------------------------------


@dataclass
class Span:
    """Wall-clock and CPU seconds (this process, all threads) of one measured part."""

    wall: float = 0.0
    cpu: float = 0.0


def cpu_seconds() -> float:
    """User plus system CPU time of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def postgres_cpu_seconds(database: str) -> float:
    """CPU time so far of the PostgreSQL backends serving `database` (found by process title)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            title = (stat.parent / "cmdline").read_bytes()
            if b"postgres: " not in title or f" {database} ".encode() not in title:
                continue
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def measure():
    """Measure the wall-clock and CPU time of a block."""
    span = Span()
    wall, cpu = time.perf_counter(), cpu_seconds()
    yield span
    span.wall, span.cpu = time.perf_counter() - wall, cpu_seconds() - cpu


async def deliver_all(worker: DeliveryWorker, total: int) -> None:
    """Run the worker (as `copnet worker` does) until every row has an outcome."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    started = time.perf_counter()
    while not task.done():
        done = worker.totals.delivered + worker.totals.failed
        progress("delivering", done, total, started)
        if done >= total:
            stop.set()
            break
        await asyncio.sleep(0.1)  # redraw the progress line
    await task


async def sign_only(cop: Actor, inboxes: list[str], executor, concurrency: int) -> None:
    """Sign one POST per inbox the way the worker does: one executor job per request."""
    loop = asyncio.get_running_loop()
    digest = digest_sha256(b"{}")
    key_id = Urls(BASE).key_id(Urls(BASE).actor(cop))
    slots = asyncio.Semaphore(concurrency)

    async def one(inbox: str) -> None:
        async with slots:
            await loop.run_in_executor(
                executor, sign_delivery, inbox, digest, key_id, cop.private_key_pem, utcnow()
            )

    await asyncio.gather(*(one(inbox) for inbox in inboxes))


def rsa_thread_speedup(private_pem: str, signatures: int = 2000) -> float:
    """How much faster `cores` threads sign than one: near `cores` if RSA releases the GIL."""
    key = load_private_key(private_pem)
    messages = [f"message {n}".encode() for n in range(signatures)]

    def sign_all(chunk: list[bytes]) -> None:
        for message in chunk:
            key.sign(message, padding.PKCS1v15(), hashes.SHA256())

    started = time.perf_counter()
    sign_all(messages)
    serial = time.perf_counter() - started
    cores = os.cpu_count() or 1
    chunks = [messages[n::cores] for n in range(cores)]
    with ThreadPoolExecutor(cores) as pool:
        started = time.perf_counter()
        list(pool.map(sign_all, chunks))
        threaded = time.perf_counter() - started
    return serial / threaded


async def sink_stats(client: aiohttp.ClientSession, port: int) -> dict:
    """What the sink has seen so far, and its CPU time."""
    async with client.get(f"http://127.0.0.1:{port}/stats") as response:
        return await response.json(content_type=None)


async def enqueue_fan_out(
    sessions, cop: Actor, inboxes: list[str], number: int = 1
) -> tuple[int, int]:
    """Enqueue the Announce to every follower; return (activity body bytes, deliveries)."""
    async with sessions() as session:
        activity = await enqueue(
            session,
            actor_id=cop.id,
            ap_id=f"{BASE}/activities/{number}",
            type_="Announce",
            document=sample_announce(),
            inboxes=inboxes,
        )
        await session.commit()
        total = (await delivery_counts(session, activity_id=activity.id)).pending
    return len(activity.body.encode()), total


async def main(args) -> None:
    """Seed, enqueue, sign-only, deliver; print the figures."""
    port, tls_port = free_port(), free_port()
    figures: dict = {}
    folder = Path(tempfile.mkdtemp(prefix="copnet-fanout-"))
    tls = None if args.no_tls else (tls_port, *throwaway_certificate(folder))
    async with bench_database() as url:
        engine = create_engine(url)
        await upgrade(engine)
        sessions = session_factory(engine)
        cop, inboxes = await seed(sessions, args, port)
        if args.prefill_rows:
            await prefill(url, cop, args.prefill_rows)
        with measure() as figures["enqueue"]:
            figures["body"], total = await enqueue_fan_out(sessions, cop, inboxes)
        executor = ThreadPoolExecutor(args.threads, thread_name_prefix="bench-sign")
        host_map = {host_name(n): "127.0.0.1" for n in range(args.instances)}
        connector = make_connector(allow_private=True, host_map=host_map)
        async with (
            sink_process(port, cop.public_key_pem, args.verify, tls),
            aiohttp.ClientSession(connector=connector) as client,
            InboxClient(allow_private=True, host_map=host_map, user_agent=AGENT) as poster,
        ):
            worker = DeliveryWorker(
                engine,
                sessions,
                poster,
                Urls(BASE),
                signer_executor=executor,
                concurrency=args.concurrency,
            )
            figures["speedup"] = rsa_thread_speedup(cop.private_key_pem)
            with measure() as figures["sign"]:
                await sign_only(cop, inboxes[:total], executor, args.concurrency)
            before = await sink_stats(client, port)
            database_before = postgres_cpu_seconds(make_url(url).database)
            freeze_startup_objects()  # as `copnet worker` does once started
            with measure() as figures["deliver"]:
                await deliver_all(worker, total)
            figures["database_cpu"] = postgres_cpu_seconds(make_url(url).database) - database_before
            figures["sink"] = await sink_stats(client, port)
            figures["sink_cpu"] = figures["sink"]["cpu"] - before["cpu"]
            if tls is not None:
                figures["tls"] = await deliver_over_tls(
                    url, engine, sessions, cop, inboxes, (port, tls), host_map, executor, args
                )
            if not args.no_scale_out:
                figures["scale_out"] = await scale_out(url, sessions, cop, inboxes, host_map)
        executor.shutdown()
        async with sessions() as session:
            figures["counts"] = await delivery_counts(session)
        await engine.dispose()
    report(args, total, figures)


async def scale_out(url, sessions, cop, inboxes, host_map) -> dict[int, dict]:
    """The same fan-out delivered by one worker process, then by two (bench/scaleout.py)."""
    database = make_url(url).database
    runs = {}
    for number, processes in ((11, 1), (12, 2)):
        _body, total = await enqueue_fan_out(sessions, cop, inboxes, number=number)
        print(f"scale-out: {total} deliveries by {processes} worker process(es) ...", flush=True)
        runs[processes] = await deliver_with_processes(
            url, BASE, host_map, processes, lambda: postgres_cpu_seconds(database)
        )
        runs[processes]["total"] = total
    return runs


def report_scale_out(runs: dict[int, dict]) -> None:
    """Rates of one and two worker processes, their ratio and the bound from CPU time."""
    one, two = runs[1], runs[2]
    rate_one, rate_two = one["total"] / one["wall"], two["total"] / two["wall"]
    us_one, us_two = one["cpu"] * 1e6 / one["total"], two["cpu"] * 1e6 / two["total"]
    print(
        f"scale-out        1 worker process {rate_one:.0f} deliveries/s ({us_one:.0f} us CPU "
        f"each), 2 processes {rate_two:.0f}/s ({us_two:.0f} us): {rate_two / rate_one:.2f}x "
        f"(target >= 1.8x)"
    )
    print(
        f"scale-out bound  with a core per process and nothing else on it: "
        f"{2 * us_one / us_two:.2f}x (computed from CPU time, not measured)"
    )


async def deliver_over_tls(url, engine, sessions, cop, inboxes, ports, host_map, executor, args):
    """The same fan-out to https:// inboxes on the sink's TLS port; the measured figures."""
    port, (tls_port, certificate, _key) = ports
    https = [
        inbox.replace("http://", "https://", 1).replace(f":{port}/", f":{tls_port}/", 1)
        for inbox in inboxes
    ]
    _body, total = await enqueue_fan_out(sessions, cop, https, number=2)
    trusted = ssl.create_default_context(cafile=certificate)
    connector = make_connector(allow_private=True, host_map=host_map)
    async with (
        aiohttp.ClientSession(connector=connector) as client,
        InboxClient(
            allow_private=True, host_map=host_map, user_agent=AGENT, ssl_context=trusted
        ) as poster,
    ):
        worker = DeliveryWorker(
            engine,
            sessions,
            poster,
            Urls(BASE),
            signer_executor=executor,
            concurrency=args.concurrency,
        )
        before = await sink_stats(client, port)
        database_before = postgres_cpu_seconds(make_url(url).database)
        with measure() as span:
            await deliver_all(worker, total)
        database_cpu = postgres_cpu_seconds(make_url(url).database) - database_before
        after = await sink_stats(client, port)
    return {
        "total": total,
        "span": span,
        "delivered": worker.totals.delivered,
        "sink_cpu": after["cpu"] - before["cpu"],
        "database_cpu": database_cpu,
    }


def report(args, total: int, figures: dict) -> None:
    """Print the figures."""
    enqueue_span, sign, deliver = figures["enqueue"], figures["sign"], figures["deliver"]
    counts, sink = figures["counts"], figures["sink"]
    delivery_rate, sign_rate = total / deliver.wall, total / sign.wall
    us = 1e6 / total
    print()
    print(f"followers        {args.followers} on {args.instances} instances")
    print(f"deliveries       {total} ({args.followers - total} saved by shared inboxes)")
    print(f"body             {figures['body']} bytes, serialised and digested once")
    print(f"enqueue          {enqueue_span.wall * 1000:.0f} ms")
    names = ["plain"] + (["TLS"] if "tls" in figures else [])
    names += ["1 and 2 worker processes"] if "scale_out" in figures else []
    runs = f" (every run: {', '.join(names)})" if len(names) > 1 else ""
    if args.prefill_rows:
        runs += f", besides {args.prefill_rows:,} prefilled finished rows"
    print(
        f"delivered        {counts.done - args.prefill_rows} done, {counts.failed} failed, "
        f"{counts.pending} pending{runs}"
    )
    print(f"delivery rate    {delivery_rate:.0f} deliveries/s ({deliver.wall:.2f} s)")
    print(
        f"RSA in threads   {os.cpu_count()} threads sign {figures['speedup']:.2f}x as fast as one "
        f"(~{os.cpu_count()}x on idle cores means the GIL is released)"
    )
    print(f"signing only     {sign_rate:.0f} signatures/s ({args.threads} threads)")
    print(f"ratio            {delivery_rate / sign_rate:.0%} (target >= 80%)")
    worker_us, sign_us = deliver.cpu * us, sign.cpu * us
    sink_us, database_us = figures["sink_cpu"] * us, figures["database_cpu"] * us
    print(
        f"CPU per delivery worker {worker_us:.0f} us, sink {sink_us:.0f} us, "
        f"PostgreSQL {database_us:.0f} us; per signature alone {sign_us:.0f} us"
    )
    # A projection, computed from the CPU times above, not measured: the rates if every core
    # were free for this benchmark and nothing but CPU limited it.
    cores = os.cpu_count() or 1
    bound = cores * 1e6 / (worker_us + sink_us + database_us)
    print(
        f"projection       {bound:.0f} deliveries/s vs {cores * 1e6 / sign_us:.0f} signatures/s "
        f"on {cores} idle cores: ratio {sign_us / (worker_us + sink_us + database_us):.0%} "
        f"(computed from CPU time, not measured)"
    )
    tls = figures.get("tls")
    if tls is not None:
        tls_us = 1e6 / tls["total"]
        tls_worker, tls_sink = tls["span"].cpu * tls_us, tls["sink_cpu"] * tls_us
        tls_database = tls["database_cpu"] * tls_us
        print(
            f"over TLS         {tls['total'] / tls['span'].wall:.0f} deliveries/s "
            f"({tls['delivered']} delivered), ratio to signing only "
            f"{tls['total'] / tls['span'].wall / sign_rate:.0%}"
        )
        print(
            f"TLS CPU          worker {tls_worker:.0f} us, sink {tls_sink:.0f} us, PostgreSQL "
            f"{tls_database:.0f} us per delivery: TLS adds {tls_worker - worker_us:.0f} us "
            f"(worker) + {tls_sink - sink_us:.0f} us (sink)"
        )
    if "scale_out" in figures:
        report_scale_out(figures["scale_out"])
    print(f"event loop       {args.loop}")
    print(f"load average     {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"peak RSS         {peak_rss_mb():.0f} MB (target < 300 MB)")
    print(
        f"sink             {sink['requests']} POSTs, {sink['duplicates']} duplicates, "
        f"{sink['verified']} signatures verified, {sink['bad_signatures']} bad"
    )


def sample_announce() -> dict:
    """A realistic FEP-1b12 Announce of a Create(Page), about 1.5 kB."""
    actor = f"{BASE}/c/nursing"
    page = {
        "id": f"{BASE}/p/1",
        "type": "Page",
        "attributedTo": "https://remote.example/users/alex",
        "audience": actor,
        "name": "Handover checklists that work on night shifts",
        "content": "<p>" + "What do your teams use for handovers? " * 20 + "</p>",
        "mediaType": "text/html",
        "published": "2026-03-01T12:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [actor],
    }
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": f"{BASE}/activities/1",
        "type": "Announce",
        "actor": actor,
        "object": {"id": f"{BASE}/activities/create/1", "type": "Create", "object": page},
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [f"{actor}/followers"],
        "published": "2026-03-01T12:00:00Z",
    }


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--instances", type=int, default=1_000)
    parser.add_argument("--verify", type=float, default=0.01, help="share of signatures checked")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--threads", type=int, default=signing_threads(), help="signing threads")
    parser.add_argument("--no-tls", action="store_true", help="skip the run over HTTPS")
    parser.add_argument(
        "--prefill-rows",
        type=int,
        default=0,
        help="finished deliveries in the table before the run (e.g. 10000000)",
    )
    parser.add_argument(
        "--no-scale-out",
        action="store_true",
        help="skip delivering with one and then two worker processes",
    )
    parser.add_argument(
        "--loop", choices=["asyncio", "uvloop"], default="asyncio", help="the worker's event loop"
    )
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    factory = None
    if arguments.loop == "uvloop":
        import uvloop

        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main(arguments))
