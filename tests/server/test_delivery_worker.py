"""The delivery worker against real loopback inboxes that verify every signature."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import socket
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import select

from federation.inbox_client import InboxClient
from federation.keys import generate_rsa_keypair
from federation.retry import (
    BREAKER_THRESHOLD,
    MAX_SCHEDULE,
    RETRY_AFTER_CAP,
    backoff_cap,
    breaker_cooldown,
)
from federation.signature_header import SignatureError, signature_from_headers
from federation.signatures import verify_request
from models.actors import Actor
from models.database import create_engine, session_factory
from models.deliveries import (
    DeliveryCounts,
    HostState,
    claim,
    delivery_counts,
    enqueue,
    save_host_states,
)
from models.instances import Instance
from models.outgoing import Delivery
from server.urls import Urls
from server.workers.delivery import DeliveryWorker
from server.workers.delivery_batch import FLUSH_ROWS

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
HOSTS = ("ok.test", "down.test", "busy.test", "gone.test", "bad.test", "auth.test", "dead.test")
KEY_ID = "https://copnet.test/c/nursing#main-key"


class Clock:
    """The injected clock: moves only when a test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class Remotes:
    """Fake remote servers: answer inbox POSTs per host, verify signatures, count deliveries."""

    def __init__(self, public_pem: str, clock: Clock) -> None:
        self.public_pem = public_pem
        self.clock = clock
        self.answers: dict[str, Callable[[], web.Response]] = {}
        self.received: Counter[tuple[str, str, str]] = Counter()
        self.bad_signatures: list[str] = []
        self.content_types: set[str] = set()
        self.arrived = asyncio.Event()
        self.on_post: Callable[[], None] = lambda: None
        self.port = 0
        self.app = web.Application()
        self.app.router.add_post("/{tail:.*}", self._post)

    def inbox(self, host: str, name: str) -> str:
        return f"http://{host}:{self.port}/users/{name}/inbox"

    def host(self, host: str) -> str:
        return f"{host}:{self.port}"

    def count(self, host: str | None = None) -> int:
        return sum(n for (h, _, _), n in self.received.items() if host in (None, h))

    async def _post(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            parsed = signature_from_headers(request.headers)
            assert parsed.key_id == KEY_ID
            verify_request(
                "POST",
                request.path_qs,
                request.headers,
                parsed,
                self.public_pem,
                now=self.clock(),
                body=body,
            )
        except (SignatureError, AssertionError) as exc:
            self.bad_signatures.append(f"{request.url}: {exc}")
            return web.Response(status=401)
        host = request.host.rsplit(":", 1)[0]
        activity_id = (await request.json())["id"]
        self.received[(host, request.path, activity_id)] += 1
        self.content_types.add(request.headers["Content-Type"])
        self.arrived.set()
        self.on_post()
        answer = self.answers.get(host)
        return answer() if answer else web.Response(status=202)


@dataclass
class Env:
    engine: object
    sessions: object
    client: InboxClient
    remotes: Remotes
    clock: Clock
    sender: Actor
    workers: list[DeliveryWorker]

    def worker(self, **options) -> DeliveryWorker:
        worker = DeliveryWorker(
            self.engine,
            self.sessions,
            self.client,
            Urls("https://copnet.test"),
            clock=self.clock,
            **options,
        )
        self.workers.append(worker)
        return worker

    async def enqueue(self, inboxes: list[str], n: int = 1) -> int:
        ap_id = f"https://copnet.test/activities/{n}"
        document = {"id": ap_id, "type": "Announce", "actor": "https://copnet.test/c/nursing"}
        async with self.sessions() as session:
            activity = await enqueue(
                session,
                actor_id=self.sender.id,
                ap_id=ap_id,
                type_="Announce",
                document=document,
                inboxes=inboxes,
                now=self.clock(),
            )
            await session.commit()
        return activity.id

    async def rows(self) -> list[Delivery]:
        async with self.sessions() as session:
            return list(await session.scalars(select(Delivery).order_by(Delivery.id)))

    async def counts(self) -> DeliveryCounts:
        async with self.sessions() as session:
            return await delivery_counts(session)

    async def instance(self, host: str) -> Instance | None:
        async with self.sessions() as session:
            return await session.get(Instance, self.remotes.host(host))


@pytest.fixture(scope="module")
def keys():
    return generate_rsa_keypair()


@pytest.fixture
async def env(database_url, aiohttp_server, keys):
    clock = Clock(START)
    remotes = Remotes(keys[1], clock)
    server = await aiohttp_server(remotes.app)
    remotes.port = server.port
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with sessions() as session:
        sender = Actor(
            type="Group",
            local_name="nursing",
            username="nursing",
            public_key_pem=keys[1],
            private_key_pem=keys[0],
        )
        session.add(sender)
        await session.commit()
    client = InboxClient(
        allow_private=True, host_map=dict.fromkeys(HOSTS, "127.0.0.1"), user_agent="copnet-test"
    )
    environment = Env(engine, sessions, client, remotes, clock, sender, [])
    yield environment
    assert remotes.bad_signatures == []
    for worker in environment.workers:
        worker.close()
    await client.close()
    await engine.dispose()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_accepted_deliveries_are_done_signed_and_sent_once(env):
    inboxes = [env.remotes.inbox("ok.test", f"u{n}") for n in range(3)]
    await env.enqueue(inboxes + inboxes[:1])
    worker = env.worker()
    assert await worker.run_once() == 3
    assert await worker.run_once() == 0
    rows = await env.rows()
    assert [(r.state, r.attempts, r.last_status) for r in rows] == [("done", 1, 202)] * 3
    assert all(r.finished_at == START and r.locked_until is None for r in rows)
    assert env.remotes.count() == 3 and set(env.remotes.received.values()) == {1}
    assert env.remotes.content_types == {"application/activity+json"}
    assert worker.totals.delivered == 3
    instance = await env.instance("ok.test")
    assert instance.consecutive_failures == 0 and instance.last_success_at == START


async def test_server_errors_are_retried_with_growing_backoff(env):
    env.remotes.answers["down.test"] = lambda: web.Response(status=500, text="oops")
    await env.enqueue([env.remotes.inbox("down.test", "u")])
    worker = env.worker()
    assert await worker.run_once() == 1
    (row,) = await env.rows()
    assert (row.state, row.attempts, row.last_status, row.last_error) == (
        "pending",
        1,
        500,
        "HTTP 500: oops",
    )
    first_wait = row.next_attempt_at - START
    assert backoff_cap(1) / 2 <= first_wait <= backoff_cap(1)
    assert await worker.run_once() == 0  # not due yet

    env.clock.advance(first_wait)
    assert await worker.run_once() == 1
    (row,) = await env.rows()
    assert row.attempts == 2
    assert backoff_cap(2) / 2 <= row.next_attempt_at - env.clock() <= backoff_cap(2)
    assert env.remotes.count() == 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [("600", timedelta(seconds=600)), ("864000", RETRY_AFTER_CAP)],
)
async def test_retry_after_is_honoured_with_a_cap(env, header, expected):
    env.remotes.answers["busy.test"] = lambda: web.Response(
        status=429, headers={"Retry-After": header}
    )
    await env.enqueue([env.remotes.inbox("busy.test", "u")])
    assert await env.worker().run_once() == 1
    (row,) = await env.rows()
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, 429)
    assert row.next_attempt_at == START + expected
    # Being rate limited says the host is up: its breaker does not count it.
    assert (await env.instance("busy.test")).consecutive_failures == 0


async def test_a_client_error_fails_without_retry(env):
    env.remotes.answers["bad.test"] = lambda: web.Response(status=400, text="bad request")
    await env.enqueue([env.remotes.inbox("bad.test", "u")])
    worker = env.worker()
    assert await worker.run_once() == 1
    (row,) = await env.rows()
    assert (row.state, row.attempts, row.last_status) == ("failed", 1, 400)
    assert row.finished_at == START and "bad request" in row.last_error
    env.clock.advance(timedelta(days=3))
    assert await worker.run_once() == 0
    assert env.remotes.count() == 1


async def test_unauthorised_is_retried(env):
    env.remotes.answers["auth.test"] = lambda: web.Response(status=401)
    await env.enqueue([env.remotes.inbox("auth.test", "u")])
    assert await env.worker().run_once() == 1
    (row,) = await env.rows()
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, 401)
    assert row.next_attempt_at > START


async def test_gone_fails_the_row_and_marks_the_actor_gone(env):
    env.remotes.answers["gone.test"] = lambda: web.Response(status=410)
    gone_inbox = env.remotes.inbox("gone.test", "bob")
    async with env.sessions() as session:
        for name, inbox in (("bob", gone_inbox), ("carol", env.remotes.inbox("ok.test", "carol"))):
            session.add(
                Actor(
                    type="Person",
                    ap_id=f"http://x/{name}",
                    username=name,
                    inbox_url=inbox,
                    public_key_pem="-",
                )
            )
        await session.commit()
    await env.enqueue([gone_inbox, env.remotes.inbox("ok.test", "carol")])
    assert await env.worker().run_once() == 2
    assert [(r.state, r.last_status) for r in await env.rows()] == [
        ("failed", 410),
        ("done", 202),
    ]
    async with env.sessions() as session:
        gone = dict((await session.execute(select(Actor.username, Actor.gone))).all())
    assert gone == {"nursing": False, "bob": True, "carol": False}


async def test_refused_connection_is_retried(env):
    await env.enqueue([f"http://dead.test:{closed_port()}/inbox"])
    assert await env.worker().run_once() == 1
    (row,) = await env.rows()
    assert (row.state, row.attempts, row.last_status) == ("pending", 1, None)
    assert row.last_error.startswith("cannot connect")


async def test_breaker_opens_postpones_the_host_and_a_success_closes_it(env):
    env.remotes.answers["down.test"] = lambda: web.Response(status=503)
    down = [env.remotes.inbox("down.test", f"u{n}") for n in range(BREAKER_THRESHOLD + 3)]
    await env.enqueue([*down, env.remotes.inbox("ok.test", "fine")])
    worker = env.worker(per_host=1)
    assert await worker.run_once() == len(down) + 1
    cooldown = breaker_cooldown(BREAKER_THRESHOLD)
    assert env.remotes.count("down.test") == BREAKER_THRESHOLD
    assert env.remotes.count("ok.test") == 1
    rows = {r.inbox_url: r for r in await env.rows()}
    attempted = [rows[url] for url in down[:BREAKER_THRESHOLD]]
    skipped = [rows[url] for url in down[BREAKER_THRESHOLD:]]
    assert all(r.attempts == 1 and r.last_status == 503 for r in attempted)
    assert all(r.attempts == 0 and r.next_attempt_at == START + cooldown for r in skipped)
    assert all("circuit breaker open" in r.last_error for r in skipped)
    instance = await env.instance("down.test")
    assert instance.consecutive_failures == BREAKER_THRESHOLD
    assert instance.unreachable_until == START + cooldown

    # New rows for the host are not even attempted while the breaker is open.
    await env.enqueue([env.remotes.inbox("down.test", "later")], n=2)
    assert await worker.run_once() == 1
    assert env.remotes.count("down.test") == BREAKER_THRESHOLD
    later = next(r for r in await env.rows() if r.inbox_url.endswith("/later/inbox"))
    assert (later.attempts, later.next_attempt_at) == (0, START + cooldown)

    # After the cooldown one probe goes first; it succeeds, the breaker closes, the rest go.
    env.remotes.answers.pop("down.test")
    env.clock.advance(max(cooldown, backoff_cap(1)) + timedelta(seconds=1))
    assert await worker.run_once() == len(down) + 1
    assert await env.counts() == DeliveryCounts(done=len(down) + 2)
    instance = await env.instance("down.test")
    assert instance.consecutive_failures == 0 and instance.unreachable_until is None
    assert instance.last_success_at == env.clock()


async def test_a_failed_probe_reopens_the_breaker_for_longer(env):
    env.remotes.answers["down.test"] = lambda: web.Response(status=502)
    await env.enqueue([env.remotes.inbox("down.test", f"u{n}") for n in range(8)])
    worker = env.worker(per_host=1)
    await worker.run_once()
    env.clock.advance(timedelta(minutes=2))
    before = env.remotes.count("down.test")
    await worker.run_once()
    assert env.remotes.count("down.test") == before + 1  # just the probe
    instance = await env.instance("down.test")
    assert instance.consecutive_failures == BREAKER_THRESHOLD + 1
    assert instance.unreachable_until == env.clock() + breaker_cooldown(BREAKER_THRESHOLD + 1)


async def test_rows_held_behind_an_open_breaker_are_given_up_after_the_whole_schedule(env):
    # Held rows are postponed without counting an attempt, so only their age can end them.
    await env.enqueue([env.remotes.inbox("down.test", "old")], n=1)
    env.clock.advance(MAX_SCHEDULE + timedelta(minutes=1))
    await env.enqueue([env.remotes.inbox("down.test", "new")], n=2)
    host = env.remotes.host("down.test")
    open_until = env.clock() + timedelta(minutes=30)
    async with env.sessions() as session:
        await save_host_states(session, [HostState(host, BREAKER_THRESHOLD, open_until, None)])
        await session.commit()
    assert await env.worker().run_once() == 2
    assert env.remotes.count("down.test") == 0
    rows = {r.inbox_url.rsplit("/", 2)[-2]: r for r in await env.rows()}
    old, new = rows["old"], rows["new"]
    assert (old.state, old.attempts) == ("failed", 0)
    assert old.last_error == "host unreachable for longer than the retry schedule"
    assert (new.state, new.attempts, new.next_attempt_at) == ("pending", 0, open_until)


async def test_a_killed_worker_loses_nothing_and_nothing_is_sent_twice(env):
    inboxes = [env.remotes.inbox("ok.test", f"u{n}") for n in range(20)]
    await env.enqueue(inboxes)
    # A worker claims everything, then dies before sending or recording anything.
    assert len(await claim(env.engine, now=env.clock(), limit=100, lease=LEASE)) == 20
    survivor = env.worker()
    assert await survivor.run_once() == 0
    env.clock.advance(LEASE + timedelta(seconds=1))
    assert await survivor.run_once() == 20
    assert await survivor.run_once() == 0
    assert env.remotes.count() == 20 and set(env.remotes.received.values()) == {1}
    assert await env.counts() == DeliveryCounts(done=20)


async def test_batches_respect_the_batch_size(env):
    await env.enqueue([env.remotes.inbox("ok.test", f"u{n}") for n in range(7)])
    worker = env.worker(batch=3)
    assert [await worker.run_once() for _ in range(4)] == [3, 3, 1, 0]
    assert env.remotes.count() == 7


async def test_run_wakes_up_on_wake_and_stops_on_stop(env):
    worker = env.worker(poll_interval=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    await env.enqueue([env.remotes.inbox("ok.test", "u")])
    worker.wake()
    await asyncio.wait_for(env.remotes.arrived.wait(), timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert await env.counts() == DeliveryCounts(done=1)


async def test_a_stopping_worker_finishes_in_flight_posts_and_hands_the_rest_back(env):
    await env.enqueue([env.remotes.inbox("ok.test", f"u{n}") for n in range(4)])
    worker = env.worker(per_host=1)
    stop = asyncio.Event()
    env.remotes.on_post = stop.set  # the shutdown signal arrives during the first POST
    await asyncio.wait_for(worker.run(stop), timeout=10)
    assert env.remotes.count() == 1
    rows = await env.rows()
    assert [r.state for r in rows].count("done") == 1
    pending = [r for r in rows if r.state == "pending"]
    assert len(pending) == 3
    assert all(r.locked_until is None and r.attempts == 0 for r in pending)
    assert all(r.next_attempt_at == START for r in pending)


async def test_run_overlaps_batches_and_still_sends_each_row_once(env):
    inboxes = [env.remotes.inbox(h, f"u{n}") for n in range(10) for h in ("ok.test", "busy.test")]
    await env.enqueue(inboxes)
    worker = env.worker(batch=3, poll_interval=3600)
    stop = asyncio.Event()

    def stop_after_the_last() -> None:
        if env.remotes.count() == len(inboxes):
            stop.set()

    env.remotes.on_post = stop_after_the_last
    await asyncio.wait_for(worker.run(stop), timeout=10)
    assert env.remotes.count() == len(inboxes) and set(env.remotes.received.values()) == {1}
    assert await env.counts() == DeliveryCounts(done=len(inboxes))
    assert worker.totals.batches == 7


async def test_signing_can_run_in_a_process_pool(env):
    await env.enqueue([env.remotes.inbox("ok.test", f"u{n}") for n in range(3)])
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        assert await env.worker(signer_executor=pool).run_once() == 3
    assert await env.counts() == DeliveryCounts(done=3)
    assert env.remotes.count() == 3


async def test_a_sender_without_a_private_key_fails_its_rows(env):
    async with env.sessions() as session:
        remote = Actor(type="Person", ap_id="http://r/alex", username="alex", public_key_pem="-")
        session.add(remote)
        await session.flush()
        await enqueue(
            session,
            actor_id=remote.id,
            ap_id="http://r/activities/1",
            type_="Create",
            document={"id": "http://r/activities/1"},
            inboxes=[env.remotes.inbox("ok.test", "u")],
            now=env.clock(),
        )
        await session.commit()
    assert await env.worker().run_once() == 1
    (row,) = await env.rows()
    assert (row.state, row.last_error) == ("failed", "the sending actor has no private key")
    assert env.remotes.count() == 0


async def test_two_workers_claiming_at_once_split_the_rows(env):
    await env.enqueue([env.remotes.inbox("ok.test", f"u{n}") for n in range(10)])
    first, second = env.worker(batch=5), env.worker(batch=5)
    assert await asyncio.gather(first.run_once(), second.run_once()) == [5, 5]
    assert env.remotes.count() == 10 and set(env.remotes.received.values()) == {1}
    assert await env.counts() == DeliveryCounts(done=10)


async def test_a_worker_killed_mid_fan_out_sends_few_rows_twice(env):
    inboxes = [env.remotes.inbox(h, f"u{n}") for n in range(150) for h in ("ok.test", "busy.test")]
    await env.enqueue(inboxes)
    worker = env.worker(poll_interval=3600)
    crash = asyncio.Event()
    env.remotes.on_post = lambda: env.remotes.count() >= 250 and crash.set()
    task = asyncio.create_task(worker.run(asyncio.Event()))
    await asyncio.wait_for(crash.wait(), timeout=30)
    task.cancel()  # dies where it stands: no final write, as with kill -9
    with contextlib.suppress(asyncio.CancelledError):
        await task
    env.remotes.on_post = lambda: None
    sent, marked = env.remotes.count(), (await env.counts()).done

    env.clock.advance(LEASE + timedelta(seconds=1))  # restarted after the lease
    survivor = env.worker()
    while await survivor.run_once():
        pass
    twice = sum(n - 1 for n in env.remotes.received.values())
    assert await env.counts() == DeliveryCounts(done=len(inboxes))
    assert twice == sent - marked
    # Outcomes are written in small batches as the POSTs finish, not once per claimed batch.
    in_flight = 2 * 8  # two hosts, per_host=8
    assert twice <= 2 * FLUSH_ROWS + in_flight, (sent, marked)
