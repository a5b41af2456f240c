"""The production topology, for real: Caddy (TLS) -> two web processes, two workers, PostgreSQL.

A member on a Fedify server (carol) finds a CoP by its handle over https, follows it and gets the
Accept; then one web and one worker process are SIGKILLed, and everything else still works on
what is left: carol's post is announced to her, pages and a document upload and download work
through the proxy, and every received activity and delivery reaches a final state.
"""

from __future__ import annotations

import asyncio
import os
import re

import aiohttp
import psycopg
import pytest

from federation.delivery import deliver
from federation.inbox_client import InboxClient
from tests.interop.node import NodeAgent, require_fedify
from tests.support.instances import free_port
from tests.topology.stack import Stack

pytestmark = pytest.mark.topology

AS2 = "application/activity+json"
WAIT = 30.0  # for one federation round trip through the real workers (they poll every second)
PASSWORD = "night shift handover notes"
DOCUMENT = b"Night handover checklist\n\n1. Fluid charts\n2. Pressure areas\n3. Pain scores\n"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def queue_report(database_url: str) -> str:
    """Every received activity and delivery with its state, for failure messages."""
    lines = []
    with psycopg.connect(database_url) as connection:
        for row in connection.execute(
            "SELECT type, ap_id, inbox, state, attempts, last_error FROM received_activities "
            "ORDER BY id"
        ):
            lines.append("received {} {} via {}: {} (attempts {}) {}".format(*row))
        for row in connection.execute(
            "SELECT a.type, a.ap_id, d.inbox_url, d.state, d.last_status, d.last_error "
            "FROM deliveries d JOIN outgoing_activities a ON a.id = d.activity_id ORDER BY d.id"
        ):
            lines.append("sent {} {} -> {}: {} (status {}) {}".format(*row))
    return "\n".join(lines) or "(nothing received or sent)"


def unfinished(database_url: str) -> int:
    """Received activities, deliveries and due jobs that have not reached a final state."""
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT (SELECT count(*) FROM received_activities WHERE state = 'pending')"
            " + (SELECT count(*) FROM deliveries WHERE state = 'pending')"
            " + (SELECT count(*) FROM scheduled_jobs WHERE state = 'pending' AND run_at < now())"
        ).fetchone()
    assert row is not None
    return int(row[0])


def states(database_url: str, table: str) -> dict[str, int]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute(f"SELECT state, count(*) FROM {table} GROUP BY state")
        return {state: count for state, count in rows}


async def settled(stack: Stack, database_url: str) -> None:
    """Wait until the workers have finished everything due; fail with the queues if not."""

    async def nothing_pending() -> bool:
        return await asyncio.to_thread(unfinished, database_url) == 0

    try:
        await stack.services.wait_for("every queue to drain", nothing_pending, within=WAIT)
    except AssertionError as failure:
        report = await asyncio.to_thread(queue_report, database_url)
        raise AssertionError(f"{failure}\n--- queues ---\n{report}") from None


async def csrf_token(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        assert response.status == 200, f"GET {url}: {response.status}"
        found = CSRF.search(await response.text())
    assert found is not None, f"no CSRF token in {url}"
    return found.group(1)


async def share_document(stack: Stack, name: str, cop_name: str, data: bytes) -> str:
    """Sign in through the proxy, join the CoP and upload `data`; returns the document's URL."""
    async with stack.session(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        token = await csrf_token(browser, f"{stack.url}/login")
        form = {"csrf_token": token, "login": name, "password": PASSWORD, "next": "/"}
        async with browser.post(f"{stack.url}/login", data=form, allow_redirects=False) as signed:
            assert signed.status == 303, f"sign-in: {signed.status} {await signed.text()}"
        cop_page = f"{stack.url}/c/{cop_name}"
        token = await csrf_token(browser, cop_page)
        async with browser.post(
            f"{cop_page}/join", data={"csrf_token": token}, allow_redirects=False
        ) as joined:
            assert joined.status == 303, f"join: {joined.status} {await joined.text()}"
        token = await csrf_token(browser, f"{cop_page}/documents")
        upload = aiohttp.FormData()
        upload.add_field("csrf_token", token)
        upload.add_field("title", "Night handover checklist")
        upload.add_field("description", "What we check at every handover.")
        upload.add_field("file", data, filename="handover.txt", content_type="text/plain")
        async with browser.post(
            f"{cop_page}/documents",
            params={"csrf_token": token},
            data=upload,
            allow_redirects=False,
        ) as uploaded:
            assert uploaded.status == 303, f"upload: {uploaded.status} {await uploaded.text()}"
            location = uploaded.headers["Location"]
    return location if location.startswith("https://") else stack.url + location


async def inbox_posts_cross_the_proxy_tls(stack: Stack) -> None:
    """copnet's own inbox client (federation/tls_connection.py) against a real TLS server,
    Caddy's (Go's TLS 1.3): two empty activities, refused by copnet behind it, one connection."""
    async with InboxClient(
        allow_private=True, user_agent="copnet-topology-test", ssl_context=stack.ssl_context()
    ) as client:
        for _ in range(2):
            result = await deliver(client, f"{stack.url}/inbox", b"{}", "SHA-256=x", {})
            assert result.status == 400 and "no absolute http(s) id" in result.reason, result
        assert client.connections_made == 1


async def test_fedify_member_through_caddy_survives_killed_processes(
    stack: Stack, empty_postgres_database: str
):
    require_fedify()
    database_url = empty_postgres_database
    await inbox_posts_cross_the_proxy_tls(stack)
    await stack.copnet(
        "community", "create", "nursing", "--title", "Nursing Practice", "--summary", "Ward talk"
    )
    await stack.copnet("member", "create", "dana", "--password-stdin", stdin=PASSWORD + "\n")
    cop = f"{stack.url}/c/nursing"
    handle = f"@nursing@{stack.url.removeprefix('https://')}"
    node_env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(stack.ca_file), "NO_COLOR": "1"}

    async def explain() -> str:
        report = await asyncio.to_thread(queue_report, database_url)
        return f"--- queues ---\n{report}\n{stack.services.logs()}"

    async with NodeAgent("member_server.mjs", str(free_port()), env=node_env) as fedify:
        # carol finds the CoP by its handle (WebFinger over https through Caddy) and follows it.
        await fedify.send({"cmd": "follow", "target": handle})
        follow = await fedify.expect("sent", explain=explain, within=WAIT)
        assert follow["type"] == "Follow"
        assert follow["object"] == cop
        accept = await fedify.expect("accept", explain=explain, within=WAIT)
        assert accept["actor"] == cop
        assert accept["object"] == follow["id"]
        await settled(stack, database_url)

        # The proxy balances: two page views in a row, one for each web process.
        async with stack.session() as visitor:
            for _ in range(2):
                async with visitor.get(f"{stack.url}/") as page:
                    assert page.status == 200
        for web in stack.web:
            assert await stack.responses(web, "/") == 1, f"{web.name} served no page"

        # One web and one worker process die without warning.
        assert await stack.kill_web(stack.web[0]) == -9
        assert stack.workers[0].kill() == -9

        # carol posts into the CoP: the surviving processes take it and announce it to her.
        await fedify.send({"cmd": "post", "cop": handle, "content": "Handover tips for nights?"})
        created = await fedify.expect("sent", explain=explain, within=WAIT)
        assert created["type"] == "Create"
        announce = await fedify.expect("announce", explain=explain, within=WAIT)
        assert announce["actor"] == cop
        assert announce["object"] == created["object"]

        # Pages through the proxy, all from the surviving web process.
        async with stack.session() as visitor:
            for path in ("/", "/c/nursing", "/", "/c/nursing"):
                async with visitor.get(f"{stack.url}{path}") as page:
                    assert page.status == 200, f"GET {path}: {page.status}"
                    assert "Nursing Practice" in await page.text()
            assert await stack.responses(stack.web[1], "/") == 3
            async with visitor.get(cop, headers={"Accept": AS2}) as group:
                assert group.status == 200
                assert (await group.json(content_type=None))["id"] == cop

        # A member shares a document from the website; anyone downloads the same bytes, and
        # carol gets the CoP's announcement of it.
        document_url = await share_document(stack, "dana", "nursing", DOCUMENT)
        async with stack.session() as visitor:
            async with visitor.get(document_url) as page:
                assert page.status == 200, f"GET {document_url}: {page.status}"
                html = await page.text()
            path = document_url.removeprefix(stack.url)
            links = re.findall(rf'href="({re.escape(path)}/v/\d+)"', html)
            assert links, f"no download link on {document_url}:\n{html}"
            async with visitor.get(f"{stack.url}{links[0]}") as download:
                assert download.status == 200
                assert await download.read() == DOCUMENT
        shared = await fedify.expect("announce", explain=explain, within=WAIT)
        assert shared["actor"] == cop
        assert shared["object"].startswith(f"{stack.url}/p/")
        async with (
            stack.session() as visitor,
            visitor.get(shared["object"], headers={"Accept": AS2}) as announced,
        ):
            assert announced.status == 200
            assert document_url in await announced.text()

        # Nothing is stuck: every received activity and delivery is done, none failed.
        await settled(stack, database_url)
        report = await asyncio.to_thread(queue_report, database_url)
        assert await asyncio.to_thread(states, database_url, "received_activities") == {
            "done": 2
        }, report
        delivered = await asyncio.to_thread(states, database_url, "deliveries")
        assert set(delivered) == {"done"}, report
        assert fedify.untaken("inbox-error") == []
    # The surviving processes were up the whole time.
    assert stack.services.died() is None, stack.services.logs()
