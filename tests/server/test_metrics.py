"""Prometheus metrics: exposure rules, queue figures from the database, inbox and delivery
outcomes, route-pattern latency labels."""

from __future__ import annotations

import asyncio
import json
import socket
from datetime import datetime, timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from models.actors import ensure_instance_actor
from models.base import utcnow
from models.instances import Instance
from models.jobs import Job
from models.outgoing import Delivery, OutgoingActivity
from models.received import ReceivedActivity
from server.app import create_app
from server.appkeys import SESSIONS
from server.ops.metrics_exposure import render
from tests.support.instances import free_port, settings_for

TOKEN = "s3cret-metrics-token"


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name: str, **labels) -> float:
    return found[(name, tuple(sorted(labels.items())))]


async def scrape(client) -> dict:
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(await response.text())


@pytest.fixture
async def metered(aiohttp_client, database_url):
    return await aiohttp_client(create_app(settings_for(database_url, metrics_token=TOKEN)))


async def test_metrics_are_not_served_without_a_token_configured(copnet):
    response = await copnet.get("/metrics")
    assert response.status == 404


async def test_metrics_need_the_bearer_token(metered):
    assert (await metered.get("/metrics")).status == 401
    wrong = await metered.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    assert "Bearer" in wrong.headers["WWW-Authenticate"]
    found = await scrape(metered)
    assert value(found, "copnet_queue_stats_up") == 1


async def seed_queues(session) -> datetime:
    """Rows in every queue and two hosts (one breaker open); returns the time used."""
    now = utcnow()
    hour = timedelta(hours=1)
    for index, (state, received, locked) in enumerate(
        [
            ("pending", now - 2 * hour, None),
            ("pending", now - hour, now + hour),  # leased
            ("done", now - 3 * hour, None),
            ("failed", now, None),
        ]
    ):
        session.add(
            ReceivedActivity(
                ap_id=f"https://remote.test/a/{index}",
                type="Create",
                actor_ap_id="https://remote.test/u/a",
                signer_key_id="https://remote.test/u/a#key",
                inbox="shared",
                body="{}",
                state=state,
                received_at=received,
                next_attempt_at=received,
                locked_until=locked,
            )
        )
    actor = await ensure_instance_actor(session)
    activity = OutgoingActivity(
        ap_id="https://copnet.test/activities/1",
        actor_id=actor.id,
        type="Accept",
        body="{}",
        digest="x",
        created_at=now,
    )
    session.add(activity)
    await session.flush()
    for index, (state, host, created, due) in enumerate(
        [
            ("pending", "down.test", now - 5 * hour, now + hour),  # waiting for a retry
            ("pending", "down.test", now - hour, now - hour),
            ("pending", "up.test", now - hour, now - hour),
            ("done", "up.test", now - 9 * hour, now),
        ]
    ):
        session.add(
            Delivery(
                activity_id=activity.id,
                inbox_url=f"https://{host}/inbox/{index}",
                host=host,
                state=state,
                created_at=created,
                next_attempt_at=due,
            )
        )
    session.add(Job(kind="reminder", run_at=now + hour, state="pending"))
    session.add(Job(kind="reminder", run_at=now - 30 * timedelta(minutes=1), state="pending"))
    session.add(Job(kind="reminder", run_at=now - 9 * hour, state="cancelled"))
    session.add(Instance(domain="down.test", consecutive_failures=7, unreachable_until=now + hour))
    session.add(Instance(domain="back.test", consecutive_failures=6, unreachable_until=now - hour))
    await session.commit()
    return now


async def test_queue_figures_come_from_the_database(metered):
    async with metered.app[SESSIONS]() as session:
        now = await seed_queues(session)
    hour = timedelta(hours=1)
    found = await scrape(metered)
    rows = "copnet_queue_rows"
    assert value(found, rows, queue="intake", state="pending") == 2
    assert value(found, rows, queue="intake", state="leased") == 1
    assert value(found, rows, queue="intake", state="due") == 1
    assert value(found, rows, queue="intake", state="done") == 1
    assert value(found, rows, queue="intake", state="failed") == 1
    age = "copnet_queue_oldest_pending_age_seconds"
    assert 7190 < value(found, age, queue="intake") < 7300
    assert value(found, rows, queue="delivery", state="pending") == 3
    assert value(found, rows, queue="delivery", state="due") == 2
    assert value(found, rows, queue="delivery", state="done") == 1
    assert 5 * 3600 - 10 < value(found, age, queue="delivery") < 5 * 3600 + 100
    assert value(found, rows, queue="jobs", state="pending") == 2
    assert value(found, rows, queue="jobs", state="due") == 1
    assert value(found, rows, queue="jobs", state="cancelled") == 1
    assert 1790 < value(found, age, queue="jobs") < 1900  # the due job, not the future one
    assert value(found, "copnet_delivery_hosts_breaker_open") == 1
    failures = "copnet_delivery_host_consecutive_failures"
    assert value(found, failures, host="down.test") == 7
    assert value(found, "copnet_delivery_host_pending_deliveries", host="down.test") == 2
    until = "copnet_delivery_host_breaker_open_until_timestamp_seconds"
    assert abs(value(found, until, host="down.test") - (now + hour).timestamp()) < 2
    assert not any(dict(labels).get("host") == "back.test" for _name, labels in found)


async def test_latency_is_labelled_by_route_pattern_never_the_raw_path(metered):
    for name in ("first", "second", "third"):
        await metered.get(f"/c/{name}", headers={"Accept": "application/activity+json"})
    await metered.get("/no/such/page/at/all")
    await metered.get("/healthz")
    found = await scrape(metered)
    count = "copnet_http_request_duration_seconds_count"
    assert value(found, count, method="GET", route="/c/{name}") == 3
    assert value(found, count, method="GET", route="(unmatched)") == 1
    assert value(found, count, method="GET", route="/healthz") == 1
    responses = "copnet_http_responses_total"
    assert value(found, responses, method="GET", route="/c/{name}", status="404") == 3
    text = json.dumps(sorted(str(key) for key in found))
    assert "first" not in text and "/no/such" not in text


async def test_inbox_rejections_are_counted_by_reason(metered):
    await metered.post("/inbox", data=b"{not json")
    envelope = {"id": "https://remote.test/a/1", "type": "Follow", "actor": "https://remote.test/u"}
    await metered.post("/inbox", json={**envelope, "object": "https://copnet.test/c/x"})
    await metered.post("/c/nobody/inbox", json=envelope)
    found = await scrape(metered)
    inbox = "copnet_inbox_activities_total"
    assert value(found, inbox, outcome="rejected", reason="invalid") == 1
    assert value(found, inbox, outcome="rejected", reason="signature") == 1
    assert value(found, inbox, outcome="rejected", reason="no_such_inbox") == 1
    assert value(found, inbox, outcome="accepted", reason="accepted") == 0


async def test_accepted_duplicate_and_delivered_are_counted(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    for _ in range(2):
        response = await fake.send(alice, f"{cop}/inbox", follow, session=network.client)
        assert response.status == 202
    await network.settle()
    assert fake.deliveries("Accept")
    found = samples((await render(network.app)).body.decode())
    inbox = "copnet_inbox_activities_total"
    assert value(found, inbox, outcome="accepted", reason="accepted") == 1
    assert value(found, inbox, outcome="accepted", reason="duplicate") == 1
    assert value(found, "copnet_deliveries_total", outcome="delivered") >= 1
    assert value(found, "copnet_queue_rows", queue="intake", state="done") == 1
    assert value(found, "copnet_queue_rows", queue="delivery", state="done") >= 1


async def test_a_separate_metrics_port_needs_no_token_and_apps_do_not_clash(
    aiohttp_client, database_url
):
    port = free_port()
    first = await aiohttp_client(create_app(settings_for(database_url, metrics_port=port)))
    second = await aiohttp_client(create_app(settings_for(database_url, metrics_token=TOKEN)))
    await first.get("/healthz")
    async with aiohttp.ClientSession() as client:
        async with client.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
            found = samples(await response.text())
    count = "copnet_http_request_duration_seconds_count"
    assert value(found, count, method="GET", route="/healthz") == 1
    assert (await first.get("/metrics")).status == 404  # no token: not on the main port
    assert (await scrape(second)).get((count, (("method", "GET"), ("route", "/healthz")))) is None


async def test_a_worker_process_serves_metrics_on_its_port(database_url):
    from dataclasses import replace

    from server.cli.worker import run_worker_process

    port = free_port()
    settings = replace(settings_for(database_url, metrics_port=port), run_workers=True)
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker_process(settings, stop=stop))
    try:
        text = await _get_when_listening(f"http://127.0.0.1:{port}/metrics")
    finally:
        stop.set()
        await worker
    found = samples(text)
    assert value(found, "copnet_queue_stats_up") == 1
    assert value(found, "copnet_queue_rows", queue="delivery", state="pending") == 0
    assert value(found, "copnet_deliveries_total", outcome="delivered") == 0


async def _get_when_listening(url: str) -> str:
    async with aiohttp.ClientSession() as client:
        for _ in range(100):
            try:
                async with client.get(url) as response:
                    assert response.status == 200
                    return await response.text()
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.1)
    raise AssertionError(f"nothing listened at {url}")


async def test_a_metrics_port_in_use_stops_the_worker_with_the_setting_named(database_url):
    from tests.server.test_startup_errors import copnet_env, one_error_line, run_copnet

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = copnet_env(database_url, COPNET_METRICS_PORT=str(port))
        result = await asyncio.to_thread(run_copnet, "worker", env=env)
    assert result.returncode == 1
    assert one_error_line(result) == (
        f"copnet: error: port {port} on 127.0.0.1 is already in use: "
        "stop the other server or set COPNET_METRICS_PORT"
    )
