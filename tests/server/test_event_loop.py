"""COPNET_EVENT_LOOP: `copnet serve` and `copnet worker` on uvloop, asyncio still the default."""

from __future__ import annotations

import asyncio
import signal
import subprocess

import aiohttp
import pytest

from server.cli import loops
from server.settings import load_settings
from server.settings_validation import SettingsError
from tests.server.test_startup_errors import COPNET, closed_port, copnet_env


async def loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_asyncio_is_the_default_and_uvloop_is_used_when_asked():
    assert load_settings({}).event_loop == "asyncio"
    assert loops.run(load_settings({}), loop_module()).startswith("asyncio")
    uvloop = load_settings({"COPNET_EVENT_LOOP": "uvloop"})
    assert loops.run(uvloop, loop_module()).startswith("uvloop")


def test_an_unknown_event_loop_names_the_setting():
    with pytest.raises(SettingsError) as caught:
        load_settings({"COPNET_EVENT_LOOP": "twisted"})
    assert str(caught.value) == "COPNET_EVENT_LOOP: 'twisted' is not asyncio or uvloop"


def start(*args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([COPNET, *args], env=env, stdout=subprocess.PIPE, text=True)


async def test_serve_answers_on_uvloop_and_stops_cleanly(database_url):
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    env = copnet_env(database_url, COPNET_URL=base, COPNET_EVENT_LOOP="uvloop")
    server = start("serve", "--host", "127.0.0.1", "--port", str(port), env=env)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(server.stdout.readline), 60)
        assert "uvloop event loop" in line
        async with aiohttp.ClientSession() as client:
            async with client.get(f"{base}/.well-known/nodeinfo") as response:
                assert response.status == 200
                assert (await response.json())["links"]
    finally:
        server.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(server.wait, 30)
    assert code == 0


async def test_a_worker_runs_on_uvloop_and_stops_cleanly(database_url):
    env = copnet_env(database_url, COPNET_EVENT_LOOP="uvloop")
    worker = start("worker", env=env)
    try:
        line = await asyncio.wait_for(asyncio.to_thread(worker.stdout.readline), 60)
        assert line.startswith("copnet ") and "worker for" in line
        await asyncio.sleep(1)  # the workers are up and polling
        assert worker.poll() is None
    finally:
        worker.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(worker.wait, 30)
    assert code == 0
