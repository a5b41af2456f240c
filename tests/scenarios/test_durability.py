"""Nothing accepted is lost: not when the server dies after its 202, nor mid-processing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta

import aiohttp
from sqlalchemy import select

from federation.netguard import make_connector
from models.base import utcnow
from models.claims import claim_due
from models.communities import create_community
from models.database import create_engine, session_factory
from models.received import ReceivedActivity
from server.appkeys import ENGINE, INTAKE, SESSIONS
from tests.support.fakeremote import loopback_host_map
from tests.support.instances import free_port, start_copnet


async def wait_until_serving(client, url: str, process) -> None:
    for _ in range(200):
        if process.returncode is not None:
            raise AssertionError(f"copnet serve exited with {process.returncode}")
        try:
            async with client.get(url + "/.well-known/nodeinfo") as response:
                if response.status == 200:
                    return
        except OSError:
            await asyncio.sleep(0.05)  # the process is still starting; nothing to wait on
    raise AssertionError("copnet serve did not start")


async def test_activity_accepted_before_a_kill_is_processed_after_restart(
    aiohttp_server, database_url, fake, tmp_path
):
    port = free_port()
    url = f"http://copnet.test:{port}"
    config = tmp_path / "copnet.toml"
    config.write_text(
        "[host_map]\n" + "".join(f'"{h}" = "127.0.0.1"\n' for h in loopback_host_map())
    )
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "COPNET_URL": url,
        "COPNET_PORT": str(port),
        "COPNET_ALLOW_PRIVATE_ADDRESSES": "true",
        "COPNET_RUN_WORKERS": "false",
        "COPNET_CONFIG": str(config),
    }
    await create_cop(database_url, "nursing")
    cop = f"{url}/c/nursing"
    client = aiohttp.ClientSession(
        connector=make_connector(allow_private=True, host_map=loopback_host_map())
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server.cli.main",
        "serve",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_until_serving(client, url, process)
        alice = fake.actor("mastodon.test", "alice")
        follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
        response = await fake.send(alice, f"{cop}/inbox", follow, session=client)
        assert response.status == 202
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
        await client.close()
    # The same Network restarted (same URL, same database) picks the activity up.
    restarted = await start_copnet(
        aiohttp_server, database_url, fake, host="copnet.test", port=port
    )
    try:
        await restarted.settle()
        async with restarted.app[SESSIONS]() as session:
            row = await session.scalar(select(ReceivedActivity))
        assert row.state == "done", row.last_error
        assert len(fake.deliveries("Accept")) == 1
    finally:
        await restarted.client.close()


async def create_cop(database_url: str, name: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            await create_community(session, name, title=name.title())
    finally:
        await engine.dispose()


async def test_row_claimed_by_a_dead_worker_is_taken_again_after_its_lease(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    await fake.send(alice, f"{cop}/inbox", follow, session=network.client)
    lease = timedelta(minutes=5)
    # A worker claims the row and dies without recording anything.
    claimed = await claim_due(
        network.app[ENGINE], ReceivedActivity, now=utcnow(), limit=10, lease=lease
    )
    assert len(claimed) == 1
    intake = network.app[INTAKE]
    assert await intake.run_once() == 0  # still leased: nobody else takes it
    intake.clock = lambda: utcnow() + lease + timedelta(seconds=1)
    assert await intake.run_once() == 1
    await network.settle()
    assert len(fake.deliveries("Accept")) == 1
