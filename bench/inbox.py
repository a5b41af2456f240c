"""Inbox benchmark: signed `Create{Note}` into a CoP inbox over loopback, on PostgreSQL.

Run by hand from the repository root::

    .venv/bin/python bench/inbox.py [--requests 5000] [--concurrency 64] [--actors 50]
                                    [--senders 2] [--latency-seconds 10] [--quick]
                                    [--skip-reference] [--profile-copnet FILE]
                                    [--profile-full-path FILE]
                                    [--processes N] [--skip-full-path] [--prefill-rows N]
                                    [--paired-peaks N] [--open-rate R]

`--quick` is a small smoke run (about 30 s). `--profile-copnet out.svg` attaches py-spy (if
installed in the virtualenv) to copnet during its peak phase (.svg flame graph, .json speedscope,
anything else collapsed stacks); `--profile-full-path FILE` does the same for the full path.

What it does, one server at a time under identical conditions:

1. Creates a throwaway PostgreSQL database on the server named by COPNET_BENCH_POSTGRES
   (default postgresql://postgres@127.0.0.1:5432/postgres), migrates it, creates a CoP and a
   `bench_reference` table; generates one RSA key per remote actor and serves the actors'
   documents from this process on 127.0.0.2 (copnet fetches each key once and caches it).
2. Starts copnet as a separate process (`python -m server.cli.main serve`, workers off, so only the
   inbox path is measured: check, store, 202), warms it up (one request per actor, so every key
   is fetched and cached, then a short burst), then:
   - closed loop: `--requests` signed requests over `--concurrency` keep-alive connections as
     fast as they are answered -> accepted activities/s and p50/p99 latency at peak;
   - open loop: requests at half the measured peak rate for `--latency-seconds`, latency measured
     from each request's scheduled send time (no coordinated omission) -> p50/p99.
3. Does the same against a reference server, this script run as `--serve-reference`: a minimal
   aiohttp app that reads the body, verifies the HTTP signature and Digest with
   federation.signatures (keys preloaded in a dict, the advantage copnet has once its cache is
   warm), INSERTs one row with asyncpg (`ON CONFLICT (ap_id) DO NOTHING`) and answers 202. The
   reference is measured at half its own peak and also at copnet's half-peak rate.
4. Unless `--skip-full-path`, the full path: copnet again with its workers on (the rows of the
   inbox-only phase are set aside first, so the workers process only this phase's), the same
   closed-loop load, and the time until the intake worker has processed every row it
   accepted -> accepted/s and processed/s, with the rows' final states.
5. Prints a table and the targets: copnet's peak accepted/s >= the reference's; at half
   copnet's peak rate, copnet's p99 < 50 ms and its p50 <= 2x the reference's p50 at that rate.
   Stops every process and drops the database (also on Ctrl-C).

Every request is signed (rsa-sha256 over (request-target) host date digest) before the timed
part, each with a unique activity id and Note id on the sender's host, by `--senders` separate
processes that then send pre-serialised HTTP/1.1 requests over raw asyncio streams, so the load
generator costs little CPU per request.

Caveat: on a small machine (this one has 2 cores) the load generator, PostgreSQL and the server
under test share the CPU, so absolute figures are lower than on a dedicated server, and anything
else running at the same time (a test suite...) skews them: the run prints the load average it
started with. The load generator itself costs about 0.1 ms of CPU per request. The servers run
one at a time under the same conditions; besides accepted/s, the table shows each server's own
CPU time per accepted request (all its processes), the figure least disturbed by other work,
and the CPU time of the PostgreSQL backends serving the benchmark database per request.

`--prefill-rows 10000000` first puts ten million finished rows in `received_activities` (old
enough for retention to leave them to its next run), so the figures show whether they hold
on a grown table.

`--open-rate R` runs the open loops at R requests/s (both servers) instead of half copnet's
peak: latency before and after a change at one and the same rate, whatever each peak was.

`--paired-peaks N` ends the run with N more closed-loop peaks of each server, both up side by
side and measured in turn, the order swapped each round, and prints each pair's ratio and their
median. The first comparison measures the two servers about a minute apart; on a machine whose
speed drifts (a shared VM), the paired ratio is the one to read.

`--processes N` runs copnet as `copnet serve --processes N` (N web processes on one port);
compare a run with `--processes 2` to one without to see the gain. py-spy (--profile-copnet)
then attaches to the supervising process only, which serves nothing: profile with 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import queue
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import asyncpg
import checkout  # noqa: F401  (this checkout's code before an installed copnet)
from aiohttp import web
from sqlalchemy.engine import URL, make_url

from federation.keys import generate_rsa_keypair, load_private_key, load_public_key
from federation.signature_header import SignatureError, signature_from_headers
from federation.signatures import sign_request
from federation.signatures import verify_request as verify_signed_request

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parents[1]
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
AS2 = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
COP_NAME = "bench"
ACTORS_HOST = "127.0.0.2"  # a loopback address of its own, so the senders are not copnet's host
WARM_REQUESTS = 500


def log(message: str) -> None:
    """A progress line."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time a process has used so far (Linux /proc), None if unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU time so far of a process and all its descendants (copnet serve --processes N)."""
    total = process_cpu_seconds(pid)
    if total is None:
        return None
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = task.read_text().split()
        except OSError:
            continue
        for child in children:
            total += tree_cpu_seconds(int(child)) or 0.0
    return total


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


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a list (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


# --------------------------------------------------------------------------- signed requests


@dataclass(frozen=True)
class Sender:
    """A remote actor: its id, key id and private key PEM."""

    actor_id: str
    key_id: str
    private_pem: str


@dataclass(frozen=True)
class Target:
    """Where the requests go: the server's address and the inbox path."""

    host: str
    port: int
    path: str
    cop_id: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"


def signed_request(sender: Sender, target: Target, tag: str) -> bytes:
    """One HTTP/1.1 request, serialised: a signed Create{Note} with fresh ids."""
    base = sender.actor_id.rsplit("/users/", 1)[0]
    name = sender.actor_id.rsplit("/", 1)[1]
    note_id = f"{base}/users/{name}/statuses/{tag}"
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    activity = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": sender.actor_id,
        "published": now,
        "to": [PUBLIC],
        "cc": [target.cop_id, f"{sender.actor_id}/followers"],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": sender.actor_id,
            "content": f'<p><span class="h-card"><a href="{target.cop_id}">@{COP_NAME}</a></span>'
            f" Benchmark note {tag}: how do you hand over a shift safely?</p>",
            "published": now,
            "to": [PUBLIC],
            "cc": [target.cop_id, f"{sender.actor_id}/followers"],
            "tag": [{"type": "Mention", "href": target.cop_id, "name": f"@{COP_NAME}"}],
        },
    }
    body = json.dumps(activity, separators=(",", ":")).encode()
    headers = sign_request(
        "POST",
        target.url,
        {"Content-Type": AS2, "Accept": AS2, "User-Agent": "copnet-bench/1"},
        body,
        key_id=sender.key_id,
        private_key=load_private_key(sender.private_pem),
    )
    lines = [f"POST {target.path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def build_requests(
    senders: list[Sender], target: Target, count: int, *, first: int, run: str
) -> list[bytes]:
    """`count` signed requests, round-robin over the senders, numbered from `first`."""
    return [
        signed_request(senders[(first + i) % len(senders)], target, f"{run}-{first + i}")
        for i in range(count)
    ]


# ------------------------------------------------------------------------- raw HTTP client


class Connection:
    """One keep-alive HTTP/1.1 connection that sends pre-serialised requests."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def roundtrip(self, request: bytes) -> tuple[int, bytes]:
        """Send one request; (status, body), status 0 on a connection failure."""
        try:
            if self.writer is None:
                await self.open()
            assert self.reader is not None and self.writer is not None
            self.writer.write(request)
            head = await self.reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            lower = head.lower()
            at = lower.find(b"\r\ncontent-length:")
            if at >= 0:
                end = lower.index(b"\r\n", at + 2)
                body = await self.reader.readexactly(int(head[at + 17 : end]))
            elif b"transfer-encoding: chunked" in lower:
                body = await self._read_chunked()
            else:
                body = await self.reader.read()
                self.close()
            if b"\r\nconnection: close" in lower:
                self.close()
            return status, body
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
            self.close()
            return 0, f"{type(e).__name__}: {e}".encode()

    async def _read_chunked(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append((await self.reader.readexactly(size + 2))[:-2])


@dataclass
class Tally:
    """What one load run saw."""

    accepted: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, accepted requests only
    errors: dict[str, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0
    sender_cpu: float = 0.0  # CPU seconds the sender processes spent sending

    def record(self, status: int, body: bytes, latency: float) -> None:
        if status == 202 and b'"accepted"' in body:
            self.accepted += 1
            self.latencies.append(latency)
            return
        key = f"{status} {body[:60].decode(errors='replace')}"
        self.errors[key] = self.errors.get(key, 0) + 1
        if len(self.samples) < 3:
            self.samples.append(f"{status} {body[:300].decode(errors='replace')}")

    def merge(self, other: Tally) -> None:
        self.accepted += other.accepted
        self.latencies += other.latencies
        for key, count in other.errors.items():
            self.errors[key] = self.errors.get(key, 0) + count
        self.samples = (self.samples + other.samples)[:3]
        self.start = min(self.start, other.start) if self.start else other.start
        self.end = max(self.end, other.end)
        self.sender_cpu += other.sender_cpu

    @property
    def done(self) -> int:
        return self.accepted + sum(self.errors.values())


async def run_closed(
    requests: list[bytes], connections: list[Connection], tally: Tally | None = None
) -> Tally:
    """Send every request, each connection sending its next as soon as one is answered."""
    tally = tally if tally is not None else Tally()
    tally.start = time.monotonic()
    pending = iter(requests)

    async def drive(connection: Connection) -> None:
        for request in pending:
            sent = time.monotonic()
            status, body = await connection.roundtrip(request)
            tally.record(status, body, time.monotonic() - sent)

    await asyncio.gather(*(drive(c) for c in connections))
    tally.end = time.monotonic()
    return tally


async def run_open(
    requests: list[bytes],
    connections: list[Connection],
    *,
    t0: float,
    rate: float,
    offset: float = 0.0,
    tally: Tally | None = None,
) -> Tally:
    """Release requests on a fixed schedule (`rate`/s from `t0`); latency from the schedule."""
    tally = tally if tally is not None else Tally()
    tally.start = t0
    released: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

    async def drive(connection: Connection) -> None:
        while (item := await released.get()) is not None:
            scheduled, request = item
            status, body = await connection.roundtrip(request)
            tally.record(status, body, time.monotonic() - scheduled)

    drivers = [asyncio.create_task(drive(c)) for c in connections]
    for i, request in enumerate(requests):
        at = t0 + (i + offset) / rate
        delay = at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        released.put_nowait((at, request))
    for _ in connections:
        released.put_nowait(None)
    await asyncio.gather(*drivers)
    tally.end = time.monotonic()
    return tally


# --------------------------------------------------------------------- sender processes


def sender_process(spec: dict, events, go, t0) -> None:
    """Entry point of one load-generating process (multiprocessing, spawn)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the orchestrator stops us
    asyncio.run(_sender(spec, events, go, t0))


async def _sender(spec: dict, events, go, t0) -> None:
    index = spec["index"]
    senders = [Sender(*s) for s in spec["senders"]]
    target = Target(**spec["target"])
    requests = build_requests(senders, target, spec["count"], first=spec["first"], run=spec["run"])
    connections = [Connection(target.host, target.port) for _ in range(spec["connections"])]
    await asyncio.gather(*(c.open() for c in connections))
    events.put(("ready", index, None))
    while not go.wait(0.05):
        pass
    delay = t0.value - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    tally = Tally()

    async def report() -> None:
        while True:
            await asyncio.sleep(0.5)
            events.put(("progress", index, tally.done))

    reporter = asyncio.create_task(report())
    cpu = time.process_time()
    if spec["mode"] == "closed":
        await run_closed(requests, connections, tally)
    else:
        await run_open(
            requests,
            connections,
            t0=t0.value,
            rate=spec["rate"],
            offset=spec["offset"],
            tally=tally,
        )
    tally.sender_cpu = time.process_time() - cpu
    reporter.cancel()
    for c in connections:
        c.close()
    events.put(("done", index, tally))


async def load_phase(
    label: str,
    *,
    senders: list[Sender],
    target: Target,
    processes: int,
    connections: int,
    mode: str,
    count: int,
    run: str,
    rate: float = 0.0,
) -> Tally:
    """Run one phase with `processes` sender processes; returns the merged tally."""
    ctx = multiprocessing.get_context("spawn")
    events = ctx.Queue()
    go = ctx.Event()
    t0 = ctx.Value("d", 0.0)
    shares = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
    conns = [
        connections // processes + (1 if i < connections % processes else 0)
        for i in range(processes)
    ]
    workers, first = [], 0
    for i in range(processes):
        spec = {
            "index": i,
            "senders": [(s.actor_id, s.key_id, s.private_pem) for s in senders],
            "target": target.__dict__,
            "count": shares[i],
            "first": first,
            "run": run,
            "connections": max(1, conns[i]),
            "mode": mode,
            "rate": rate / processes,
            "offset": i / processes,
        }
        first += shares[i]
        worker = ctx.Process(target=sender_process, args=(spec, events, go, t0), daemon=True)
        worker.start()
        workers.append(worker)
    try:
        log(f"{label}: signing {count} requests in {processes} sender processes")
        await _expect(events, workers, "ready", processes)
        log(
            f"{label}: sending ({mode} loop, {connections} connections"
            + (f", {rate:.0f}/s" if mode == "open" else "")
            + ")"
        )
        t0.value = time.monotonic() + 0.05
        go.set()
        results = await _expect(events, workers, "done", processes, total=count, label=label)
        tally = Tally()
        for result in results:
            tally.merge(result)
        tally.start = t0.value
        return tally
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join(5)


async def _expect(events, workers, kind: str, n: int, *, total: int = 0, label: str = "") -> list:
    got: list = []
    progress: dict[int, int] = {}
    last_print = time.monotonic()
    while len(got) < n:
        try:
            event, index, payload = events.get_nowait()
        except queue.Empty:
            if any(w.exitcode not in (None, 0) for w in workers):
                raise RuntimeError("a sender process failed (see its traceback above)") from None
            await asyncio.sleep(0.02)
            continue
        if event == kind:
            got.append(payload)
        elif event == "progress":
            progress[index] = payload
            if time.monotonic() - last_print >= 2.0:
                last_print = time.monotonic()
                log(f"{label}: {sum(progress.values())}/{total} answered")
    return got


# ------------------------------------------------------------------- servers and database


class ActorServer:
    """Serves the remote actors' documents (copnet fetches each key once)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.documents: dict[str, dict] = {}
        self.fetches = 0
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def add(self, name: str, public_pem: str) -> str:
        actor_id = f"{self.base}/users/{name}"
        self.documents[f"/users/{name}"] = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "followers": f"{actor_id}/followers",
            "endpoints": {"sharedInbox": f"{self.base}/inbox"},
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_pem,
            },
        }
        return actor_id

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/users/{name}", self._actor)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _actor(self, request: web.Request) -> web.Response:
        document = self.documents.get(request.path)
        if document is None:
            return web.json_response({"error": "not found"}, status=404)
        self.fetches += 1
        return web.json_response(document, content_type=AS2)


class ServerProcess:
    """A server under test in its own process (and session, so Ctrl-C reaches only us)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    async def wait_ready(self, url: str, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with client.get(url) as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {within:.0f} s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            # aiohttp's run_app shuts down cleanly on SIGINT; the group includes py-spy's child.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        self._log.close()


class Profiler:
    """`py-spy record` attached to a running server; output .svg, .json (speedscope) or raw."""

    def __init__(self, pid: int, output: str) -> None:
        installed = Path(sys.executable).with_name("py-spy")
        kind = {".svg": "flamegraph", ".json": "speedscope"}.get(Path(output).suffix, "raw")
        program = str(installed) if installed.exists() else "py-spy"
        argv = [program, "record", "--nonblocking", "--rate", "200", "--format", kind, "-o", output]
        self.process = subprocess.Popen(
            [*argv, "--pid", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def stop(self) -> None:
        """Stop sampling; py-spy writes its output on SIGINT."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def database_urls(server: str, name: str) -> tuple[URL, URL]:
    """(admin URL, benchmark database URL), both plain postgresql:// (asyncpg DSNs)."""
    admin = make_url(server).set(drivername="postgresql")
    return admin, admin.set(database=name)


def dsn(url: URL) -> str:
    """A URL as a libpq/asyncpg DSN string."""
    return url.render_as_string(hide_password=False)


PREFILL_RECEIVED = """
INSERT INTO received_activities (ap_id, type, actor_ap_id, signer_key_id, inbox, forwarded, body,
    state, attempts, next_attempt_at, last_error, received_at, processed_at)
SELECT 'https://old.example/activities/' || n, 'Create', 'https://old.example/users/a',
    'https://old.example/users/a#main-key', 'shared', false, '{}', 'done', 1,
    now() - interval '20 days', '', now() - interval '20 days' + n * interval '10 ms',
    now() - interval '20 days' + n * interval '10 ms'
FROM generate_series(1, $1) AS n
"""


async def prefill(url: URL, rows: int) -> None:
    """`rows` finished received activities already in the table (the growth target: figures
    must hold with millions of rows in it), in chunks of a million, then VACUUM ANALYZE."""
    connection = await asyncpg.connect(dsn(url))
    try:
        done = 0
        while done < rows:
            chunk = min(1_000_000, rows - done)
            await connection.execute(
                PREFILL_RECEIVED.replace(
                    "generate_series(1, $1)", f"generate_series({done + 1}, {done + chunk})"
                )
            )
            done += chunk
            log(f"prefilled {done:,} of {rows:,} received_activities rows")
        await connection.execute("VACUUM ANALYZE received_activities")
    finally:
        await connection.close()


async def prepare_database(url: URL) -> None:
    """Migrate the fresh database, create the CoP and the reference server's table."""
    from models.communities import create_community
    from models.database import create_engine, session_factory
    from models.migrate import upgrade

    engine = create_engine(dsn(url.set(drivername="postgresql+asyncpg")))
    try:
        await upgrade(engine)
        async with session_factory(engine)() as session:
            await create_community(session, COP_NAME, title="Benchmark CoP")
            await session.commit()
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(dsn(url))
    try:
        await connection.execute(REFERENCE_TABLE)
    finally:
        await connection.close()


async def count_rows(url: URL, table: str) -> int:
    connection = await asyncpg.connect(dsn(url))
    try:
        return int(await connection.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await connection.close()


# ------------------------------------------------------------------- the reference server

REFERENCE_TABLE = """
CREATE TABLE bench_reference (
    id BIGSERIAL PRIMARY KEY,
    ap_id TEXT NOT NULL UNIQUE,
    actor TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""
REFERENCE_INSERT = (
    "INSERT INTO bench_reference (ap_id, actor, body) VALUES ($1, $2, $3)"
    " ON CONFLICT (ap_id) DO NOTHING"
)


def serve_reference(port: int, database: str, keys_file: str) -> None:
    """The reference inbox: verify the signature, insert one row, 202. Runs until SIGINT."""
    keys = {
        key_id: load_public_key(pem)
        for key_id, pem in json.loads(Path(keys_file).read_text()).items()
    }
    pool_key = web.AppKey("pool", asyncpg.Pool)

    async def database_pool(app: web.Application):
        app[pool_key] = await asyncpg.create_pool(database, min_size=10, max_size=20)
        yield
        await app[pool_key].close()

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            parsed = signature_from_headers(request.headers)
            key = keys.get(parsed.key_id)
            if key is None:
                raise SignatureError("unknown key")
            verify_signed_request(
                request.method, request.path_qs, request.headers, parsed, key, body=body
            )
        except SignatureError as error:
            return web.json_response({"error": error.reason}, status=401)
        activity = json.loads(body)
        async with request.app[pool_key].acquire() as connection:
            await connection.execute(
                REFERENCE_INSERT, activity["id"], activity["actor"], body.decode()
            )
        return web.json_response({"status": "accepted"}, status=202)

    async def ready(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.cleanup_ctx.append(database_pool)
    app.router.add_post(f"/c/{COP_NAME}/inbox", inbox)
    app.router.add_get("/.well-known/nodeinfo", ready)
    print(f"reference inbox listening on 127.0.0.1:{port}", flush=True)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# ----------------------------------------------------------------------------- the run


@dataclass
class Result:
    """Figures for one server: the closed-loop peak and the open-loop runs."""

    name: str
    peak: Tally
    cpu_seconds: float | None = None  # the server processes' CPU time during the peak phase
    database_seconds: float | None = None  # PostgreSQL backends' CPU time during the peak
    open_runs: list[tuple[str, float, Tally]] = field(default_factory=list)

    @property
    def database_per_request(self) -> str:
        if self.database_seconds is None or not self.peak.accepted:
            return "-"
        return f"{self.database_seconds / self.peak.accepted * 1000:.2f} ms"

    @property
    def cpu_per_request(self) -> str:
        if self.cpu_seconds is None or not self.peak.accepted:
            return "-"
        return f"{self.cpu_seconds / self.peak.accepted * 1000:.2f} ms"

    @property
    def rate(self) -> float:
        elapsed = self.peak.end - self.peak.start
        return self.peak.accepted / elapsed if elapsed > 0 else 0.0


async def warm_up(name: str, target: Target, senders: list[Sender], args) -> None:
    """One request per actor (each key fetched once), then a burst: caches full, code loaded."""
    run = f"{name}-{secrets.token_hex(3)}"
    log(f"{name}: warming up (one request per actor, then {args.warm} more)")
    first = build_requests(senders, target, len(senders), first=0, run=f"{run}-w")
    warm = build_requests(senders, target, args.warm, first=len(senders), run=f"{run}-w")
    connection = Connection(target.host, target.port)
    tally = await run_closed(first, [connection])  # one at a time: each key fetched once
    connection.close()
    connections = [Connection(target.host, target.port) for _ in range(args.concurrency)]
    tally.merge(await run_closed(warm, connections))
    for c in connections:
        c.close()
    if tally.errors:
        raise RuntimeError(f"{name} refused warm-up requests: {tally.samples}")


async def measure_peak(
    name: str,
    target: Target,
    senders: list[Sender],
    args,
    *,
    pid: int,
    database: str,
    profile: str | None = None,
) -> Result:
    """`--requests` signed requests as fast as a warm server answers them."""
    run = f"{name}-{secrets.token_hex(3)}"
    profiler = None
    if profile is not None:
        profiler = Profiler(pid, profile)
        log(f"{name}: py-spy attached to pid {pid}, writing {profile}")
    cpu_before = tree_cpu_seconds(pid)
    database_before = postgres_cpu_seconds(database)
    try:
        peak = await load_phase(
            f"{name} peak",
            senders=senders,
            target=target,
            processes=args.senders,
            connections=args.concurrency,
            mode="closed",
            count=args.requests,
            run=f"{run}-p",
        )
    finally:
        if profiler is not None:
            profiler.stop()
    cpu_after = tree_cpu_seconds(pid)
    cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    result = Result(name, peak, cpu, postgres_cpu_seconds(database) - database_before)
    log(
        f"{name} peak: {result.rate:.0f} accepted/s, p50 {ms(peak, 0.5)}, p99 {ms(peak, 0.99)},"
        f" server CPU {result.cpu_per_request} per request,"
        f" PostgreSQL CPU {result.database_per_request} per request,"
        f" load generator CPU {peak.sender_cpu / max(1, peak.done) * 1000:.2f} ms per request"
    )
    return result


async def full_path(url: URL, database: str, argv, env, scratch, target, senders, args) -> dict:
    """copnet with its workers on: accepted/s under the closed-loop load, then processed/s until
    the intake worker has finished every row of this phase."""
    connection = await asyncpg.connect(dsn(url))
    try:
        # The inbox-only phase's rows are set aside: the workers process this phase's only.
        await connection.execute(
            "UPDATE received_activities SET state = 'ignored' WHERE state = 'pending'"
        )
    finally:
        await connection.close()
    server = ServerProcess("copnet-workers", argv, env, Path(scratch))
    await server.wait_ready(f"http://{target.host}:{target.port}/.well-known/nodeinfo")
    log(f"copnet with workers is up (pid {server.process.pid})")
    profiler = None
    if args.profile_full_path:
        profiler = Profiler(server.process.pid, args.profile_full_path)
    run = f"full-{secrets.token_hex(3)}"
    cpu_before = tree_cpu_seconds(server.process.pid) or 0.0
    database_before = postgres_cpu_seconds(database)
    tally = await load_phase(
        "copnet full path",
        senders=senders,
        target=target,
        processes=args.senders,
        connections=args.concurrency,
        mode="closed",
        count=args.requests,
        run=run,
    )
    states: dict[str, int] = {}
    connection = await asyncpg.connect(dsn(url))
    try:
        deadline = time.monotonic() + max(120.0, args.requests / 20)
        while time.monotonic() < deadline:
            rows = await connection.fetch(
                "SELECT state, count(*) AS n FROM received_activities WHERE ap_id LIKE $1"
                " GROUP BY state",
                f"%/statuses/{run}-%",
            )
            states = {row["state"]: row["n"] for row in rows}
            if states and "pending" not in states:
                break
            await asyncio.sleep(0.2)
    finally:
        await connection.close()
    finished = time.monotonic()
    if profiler is not None:
        profiler.stop()
    cpu = (tree_cpu_seconds(server.process.pid) or 0.0) - cpu_before
    database_cpu = postgres_cpu_seconds(database) - database_before
    processed = sum(n for state, n in states.items() if state != "pending")
    requests = max(1, tally.accepted)
    result = {
        "server": server,
        "accepted": tally.accepted,
        "accepted_rate": tally.accepted / max(1e-9, tally.end - tally.start),
        "processed": processed,
        "seconds": finished - tally.start,
        "processed_rate": processed / max(1e-9, finished - tally.start),
        "states": states,
        "cpu_ms": cpu / requests * 1000,
        "database_ms": database_cpu / requests * 1000,
    }
    server.stop()
    log(
        f"full path: {result['accepted_rate']:.0f} accepted/s, "
        f"{result['processed_rate']:.0f} processed/s, states {states}"
    )
    return result


async def open_loop(
    result: Result, label: str, rate: float, target: Target, senders: list[Sender], args
) -> None:
    """One open-loop run at `rate`/s for --latency-seconds, added to the result."""
    if args.latency_seconds <= 0 or rate <= 0:
        return
    count = max(1, round(rate * args.latency_seconds))
    tally = await load_phase(
        f"{result.name} @ {rate:.0f}/s",
        senders=senders,
        target=target,
        processes=args.senders,
        connections=args.concurrency,
        mode="open",
        count=count,
        run=f"{result.name}-{secrets.token_hex(3)}-o",
        rate=rate,
    )
    log(f"{result.name} @ {rate:.0f}/s: p50 {ms(tally, 0.5)}, p99 {ms(tally, 0.99)}")
    result.open_runs.append((label, rate, tally))


def ms(tally: Tally | None, fraction: float) -> str:
    if tally is None or not tally.latencies:
        return "-"
    return f"{percentile(tally.latencies, fraction) * 1000:.1f} ms"


def print_report(results: list[Result], args, load: float, full: dict | None = None) -> None:
    print()
    print(
        f"inbox benchmark: {args.requests} requests at peak over {args.concurrency} connections,"
        f" {args.actors} actors, {args.senders} sender processes, {os.cpu_count()} CPUs"
        f" (1-min load average {load:.2f} before the run)"
    )
    header = (
        f"{'server':<33} {'accepted/s':>10} {'CPU/req':>8} {'p50':>9} {'p99':>9} | "
        f"{'open rate':>9} {'achieved':>8} {'p50':>9} {'p99':>9} {'errors':>6}"
    )
    print(f"{'':<33} {'--- closed loop (peak) ---':^49} | {'--- open loop ---':^54}")
    print(header)
    print("-" * len(header))
    for result in results:
        runs = result.open_runs or [("", 0.0, None)]
        for i, (label, rate, tally) in enumerate(runs):
            errors = sum(result.peak.errors.values()) if i == 0 else 0
            achieved = ""
            if tally is not None:
                errors += sum(tally.errors.values())
                if tally.end > tally.start:
                    achieved = f"{tally.accepted / (tally.end - tally.start):.0f}"
            if i == 0:
                name = result.name
                peak = (
                    f"{result.rate:.0f}",
                    result.cpu_per_request,
                    ms(result.peak, 0.5),
                    ms(result.peak, 0.99),
                )
            else:
                name, peak = f"  {label}", ("", "", "", "")
            print(
                f"{name:<33} {peak[0]:>10} {peak[1]:>8} {peak[2]:>9} {peak[3]:>9} | "
                f"{rate:>9.0f} {achieved:>8} {ms(tally, 0.5):>9} {ms(tally, 0.99):>9} {errors:>6}"
            )
    for result in results:
        for tally in (result.peak, *(t for _l, _r, t in result.open_runs)):
            if tally.errors:
                print(f"{result.name} errors: {tally.errors}")
    print(
        "CPU/req: the server process's CPU time per accepted request at peak. Open loop: requests"
        " sent at fixed intervals (first row: half the server's own peak), latency counted from"
        " each one's scheduled time."
    )
    for result in results:
        print(
            f"PostgreSQL CPU per accepted request at peak, {result.name}: "
            f"{result.database_per_request}"
        )
    if full is not None:
        print()
        print(
            f"full path (workers on, {args.processes} web process(es)): "
            f"{full['accepted_rate']:.0f} accepted/s, {full['processed_rate']:.0f} processed/s "
            f"({full['processed']} of {full['accepted']} processed in {full['seconds']:.1f} s; "
            f"states {full['states']}); copnet CPU {full['cpu_ms']:.2f} ms and PostgreSQL CPU "
            f"{full['database_ms']:.2f} ms per request, accepting and processing"
        )
    copnet = next(r for r in results if r.name == "copnet")
    reference = next((r for r in results if r.name == "reference"), None)
    print()
    if reference is not None and reference.rate > 0:
        ratio = copnet.rate / reference.rate
        verdict = "met" if ratio >= 1.0 else "NOT met"
        print(f"copnet / reference accepted/s: {ratio:.0%} (target >= 100%: {verdict})")
    if copnet.open_runs:
        _label, rate, tally = copnet.open_runs[0]
        p50 = percentile(tally.latencies, 0.5) * 1000
        p99 = percentile(tally.latencies, 0.99) * 1000
        verdict = "met" if p99 < 50 and not tally.errors else "NOT met"
        print(
            f"copnet p99 at half its peak ({rate:.0f}/s): {p99:.1f} ms (target < 50 ms: {verdict})"
        )
        same_rate = reference.open_runs[-1][2] if reference and reference.open_runs else None
        if same_rate is not None and same_rate.latencies:
            base = percentile(same_rate.latencies, 0.5) * 1000
            verdict = "met" if p50 <= 2 * base else "NOT met"
            print(
                f"copnet p50 at that rate: {p50:.1f} ms, {p50 / base:.1f}x the reference's "
                f"{base:.1f} ms (target <= 2x: {verdict})"
            )


def copnet_environment(url: URL, port: int) -> dict[str, str]:
    """copnet's settings for a run: this database, this port, workers off."""
    return {
        **{k: v for k, v in os.environ.items() if k != "COPNET_CONFIG"},
        "DATABASE_URL": dsn(url),
        "COPNET_URL": f"http://127.0.0.1:{port}",
        "COPNET_HOST": "127.0.0.1",
        "COPNET_PORT": str(port),
        "COPNET_ALLOW_PRIVATE_ADDRESSES": "true",
        "COPNET_RUN_WORKERS": "false",
        "PYTHONUNBUFFERED": "1",
    }


def copnet_command(args) -> list[str]:
    return [sys.executable, "-m", "server.cli.main", "serve", "--processes", str(args.processes)]


def reference_command(port: int, url: URL, keys_file: Path) -> list[str]:
    return [sys.executable, str(SCRIPT), "--serve-reference", str(port), dsn(url), str(keys_file)]


async def start_server(
    name: str, argv: list[str], env: dict[str, str], scratch: str, port: int, running: list
) -> ServerProcess:
    """Start a server and wait until it answers on `port`."""
    server = ServerProcess(name, argv, env, Path(scratch))
    running.append(server)
    await server.wait_ready(f"http://127.0.0.1:{port}/.well-known/nodeinfo")
    log(f"{name} is up on port {port} (pid {server.process.pid})")
    return server


async def paired_peaks(
    env: dict[str, str],
    url: URL,
    database: str,
    keys_file: Path,
    scratch: str,
    running: list,
    senders,
    args,
) -> list:
    """copnet and the reference up side by side, their peaks measured in turn (the order
    swapped each round), so that a change in the machine's speed falls on both alike.

    Returns (copnet, reference) Results, one pair per round."""
    # copnet on the port (so the URL) it had in the first phase, the reference on a new one.
    copnet_port, reference_port = int(env["COPNET_PORT"]), free_port()
    cop_id = f"http://127.0.0.1:{copnet_port}/c/{COP_NAME}"
    commands = {
        "copnet": (copnet_command(args), copnet_port),
        "reference": (reference_command(reference_port, url, keys_file), reference_port),
    }
    started = {}
    for label, (argv, port) in commands.items():
        started[label] = (await start_server(label, argv, env, scratch, port, running), port)
    targets = {}
    for label, (server, port) in started.items():
        target = Target("127.0.0.1", port, f"/c/{COP_NAME}/inbox", cop_id)
        await warm_up(label, target, senders, args)
        targets[label] = (target, server.process.pid)
    pairs = []
    for round_ in range(args.paired_peaks):
        order = ["copnet", "reference"][:: 1 if round_ % 2 == 0 else -1]
        measured = {}
        for label in order:
            target, pid = targets[label]
            measured[label] = await measure_peak(
                f"{label}, pair {round_ + 1}", target, senders, args, pid=pid, database=database
            )
        pairs.append((measured["copnet"], measured["reference"]))
    for server, _port in started.values():
        server.stop()
    return pairs


def print_pairs(pairs: list) -> None:
    if not pairs:
        return
    print("\npaired peaks: both servers up, measured in turn (order swapped each round)")
    print(
        f"{'round':>5}  {'copnet/s':>9} {'CPU/req':>8}  {'reference/s':>11} {'CPU/req':>8}  ratio"
    )
    ratios = []
    for number, (copnet, reference) in enumerate(pairs, 1):
        ratio = copnet.rate / reference.rate if reference.rate else 0.0
        ratios.append(ratio)
        print(
            f"{number:>5}  {copnet.rate:>9.0f} {copnet.cpu_per_request:>8}"
            f"  {reference.rate:>11.0f} {reference.cpu_per_request:>8}  {ratio:.0%}"
        )
    verdict = "met" if statistics.median(ratios) >= 1 else "NOT met"
    print(
        f"copnet / reference accepted/s, median of {len(ratios)} pairs:"
        f" {statistics.median(ratios):.0%} (target >= 100%: {verdict})"
    )


async def bench(args) -> None:
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    server = os.environ.get("COPNET_BENCH_POSTGRES", DEFAULT_POSTGRES)
    name = f"copnet_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin, url = database_urls(server, name)
    try:
        actors = ActorServer(ACTORS_HOST, free_port(ACTORS_HOST))
    except OSError:  # not every system routes all of 127/8 to loopback
        actors = ActorServer("127.0.0.1", free_port())
    running: list[ServerProcess] = []
    created = False
    load = os.getloadavg()[0]
    if load > 0.5:
        log(f"note: the 1-min load average is {load:.2f}: other work competes for the CPU")
    with tempfile.TemporaryDirectory(prefix="copnet-bench-") as scratch:
        try:
            admin_connection = await asyncpg.connect(dsn(admin))
            try:
                created = True  # set first: a Ctrl-C during CREATE still drops IF EXISTS
                await admin_connection.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin_connection.close()
            log(f"created database {name}")
            await prepare_database(url)
            if args.prefill_rows:
                await prefill(url, args.prefill_rows)
            log("migrated it; created the CoP and the reference table")

            log(f"generating {args.actors} actor keys")
            senders, keys = [], {}
            for i in range(args.actors):
                private_pem, public_pem = generate_rsa_keypair()
                actor_id = actors.add(f"actor{i:03d}", public_pem)
                senders.append(Sender(actor_id, f"{actor_id}#main-key", private_pem))
                keys[f"{actor_id}#main-key"] = public_pem
            await actors.start()
            keys_file = Path(scratch) / "keys.json"
            keys_file.write_text(json.dumps(keys))

            port = free_port()
            env = copnet_environment(url, port)
            argv = copnet_command(args)
            copnet = await start_server("copnet", argv, env, scratch, port, running)
            cop_id = f"http://127.0.0.1:{port}/c/{COP_NAME}"
            target = Target("127.0.0.1", port, f"/c/{COP_NAME}/inbox", cop_id)
            await warm_up("copnet", target, senders, args)
            copnet_result = await measure_peak(
                "copnet",
                target,
                senders,
                args,
                pid=copnet.process.pid,
                database=name,
                profile=args.profile_copnet,
            )
            half = args.open_rate or copnet_result.rate / 2
            label = f"at {half:.0f}/s (--open-rate)" if args.open_rate else "at half its peak"
            await open_loop(copnet_result, label, half, target, senders, args)
            log(f"copnet fetched {actors.fetches} actor documents for {args.actors} keys")
            copnet.stop()
            stored = await count_rows(url, "received_activities")
            log(f"copnet stored {stored} received_activities rows")
            results = [copnet_result]
            full = None
            if not args.skip_full_path:
                workers_env = {**env, "COPNET_RUN_WORKERS": "true"}
                full = await full_path(url, name, argv, workers_env, scratch, target, senders, args)
                running.append(full.pop("server"))

            if not args.skip_reference:
                port = free_port()
                argv = reference_command(port, url, keys_file)
                reference = await start_server("reference", argv, env, scratch, port, running)
                target = Target("127.0.0.1", port, f"/c/{COP_NAME}/inbox", cop_id)
                await warm_up("reference", target, senders, args)
                ref = await measure_peak(
                    "reference", target, senders, args, pid=reference.process.pid, database=name
                )
                await open_loop(ref, "at half its peak", ref.rate / 2, target, senders, args)
                await open_loop(ref, "at copnet's half-peak rate", half, target, senders, args)
                reference.stop()
                stored = await count_rows(url, "bench_reference")
                log(f"reference stored {stored} rows")
                results.append(ref)
            pairs = []
            if args.paired_peaks and not args.skip_reference:
                pairs = await paired_peaks(
                    env, url, name, keys_file, scratch, running, senders, args
                )
            print_report(results, args, load, full)
            print_pairs(pairs)
        finally:
            for process in running:
                process.stop()
            await actors.stop()
            if created:
                await _drop_database(admin, name)


async def _drop_database(admin: URL, name: str) -> None:
    connection = await asyncpg.connect(dsn(admin))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
    log(f"dropped database {name}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests at peak (5000)")
    parser.add_argument("--concurrency", type=int, default=64, help="connections (64)")
    parser.add_argument("--actors", type=int, default=50, help="remote actors (50)")
    parser.add_argument(
        "--senders",
        type=int,
        default=max(1, min(4, os.cpu_count() or 1)),
        help="load generator processes (default: CPUs, at most 4)",
    )
    parser.add_argument(
        "--latency-seconds", type=float, default=10.0, help="length of each open-loop phase (10)"
    )
    parser.add_argument(
        "--warm",
        type=int,
        default=WARM_REQUESTS,
        help=f"warm-up requests after one per actor ({WARM_REQUESTS})",
    )
    parser.add_argument("--quick", action="store_true", help="a small run for smoke testing")
    parser.add_argument("--skip-reference", action="store_true", help="measure copnet only")
    parser.add_argument("--processes", type=int, default=1, help="copnet serve --processes N (1)")
    parser.add_argument(
        "--paired-peaks",
        type=int,
        default=0,
        metavar="N",
        help="then N more peaks of each server, both up, measured in turn (0)",
    )
    parser.add_argument(
        "--open-rate",
        type=float,
        default=0.0,
        metavar="R",
        help="open loop at R requests/s for both servers instead of half copnet's peak",
    )
    parser.add_argument(
        "--skip-full-path", action="store_true", help="skip the run with workers on"
    )
    parser.add_argument(
        "--prefill-rows",
        type=int,
        default=0,
        help="finished received_activities rows in the table before the run (e.g. 10000000)",
    )
    parser.add_argument(
        "--profile-copnet",
        metavar="FILE",
        help="py-spy copnet during its peak phase (.svg, .json speedscope, else raw)",
    )
    parser.add_argument(
        "--profile-full-path",
        metavar="FILE",
        help="py-spy copnet with its workers on, until every row is processed (as above)",
    )
    parser.add_argument(
        "--serve-reference", nargs=3, metavar=("PORT", "DSN", "KEYS_JSON"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    for option in ("profile_copnet", "profile_full_path"):
        if getattr(args, option):
            setattr(args, option, str(Path(getattr(args, option)).resolve()))
    if args.quick:
        args.requests, args.concurrency, args.actors = 400, 16, 5
        args.latency_seconds, args.warm = 2.0, 50
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_reference:
        port, database, keys_file = args.serve_reference
        serve_reference(int(port), database, keys_file)
        return 0
    try:
        asyncio.run(bench(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; servers stopped and database dropped", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
