"""`copnet serve --processes 2`: two real processes on one port share the sign-in limit.

Runs the real command (as tests/server/test_startup_errors.py does) on SQLite and PostgreSQL,
checks in /proc that two processes listen on the port, then sends failed sign-ins each on a
new connection, so the kernel spreads them over both processes: exactly the per-name limit
(5) are checked, the rest refused, as one process would do. With limits kept per process,
more than 5 would get through.
"""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
from pathlib import Path

import aiohttp
import pytest

from tests.server.test_startup_errors import COPNET, closed_port, copnet_env

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PER_NAME = 5


def listening_inodes(port: int) -> set[str]:
    """Socket inodes listening on a TCP port (state 0A in /proc/net/tcp)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def processes_listening(pids: list[int], port: int) -> set[int]:
    inodes = listening_inodes(port)
    found = set()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = fd.readlink().as_posix()
            except OSError:
                continue
            if target.startswith("socket:[") and target[8:-1] in inodes:
                found.add(pid)
    return found


async def serving_pids(server: subprocess.Popen, count: int) -> list[int]:
    """The process ids the children print once they listen."""
    assert server.stdout is not None
    pids = []
    while len(pids) < count:
        line = await asyncio.wait_for(asyncio.to_thread(server.stdout.readline), 60)
        assert line, "copnet serve stopped before every process listened"
        found = re.search(r"process (\d+)\)", line)
        if found:
            pids.append(int(found.group(1)))
    return pids


def start_serving(port: int, env: dict[str, str]) -> subprocess.Popen:
    command = [COPNET, "serve", "--host", "127.0.0.1", "--port", str(port), "--processes", "2"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)


async def failed_sign_in(base: str) -> int:
    # A new connection each time (force_close), so the kernel picks a process each time.
    connector = aiohttp.TCPConnector(force_close=True)
    jar = aiohttp.CookieJar(unsafe=True)  # cookies from an IP address (127.0.0.1)
    async with aiohttp.ClientSession(base, connector=connector, cookie_jar=jar) as client:
        page = await (await client.get("/login", headers={"Accept": "text/html"})).text()
        token = TOKEN.search(page).group(1)
        response = await client.post(
            "/login",
            data={"login": "sam", "password": "not the password", "csrf_token": token},
            headers={"Accept": "text/html"},
            allow_redirects=False,
        )
        return response.status


async def test_two_processes_share_one_port_and_one_sign_in_limit(database_url):
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    env = copnet_env(database_url, COPNET_URL=base, COPNET_ACCESS_LOG="false")
    server = start_serving(port, env)
    try:
        pids = await serving_pids(server, 2)
        assert len(set(pids)) == 2
        assert processes_listening(pids, port) == set(pids)

        statuses = [await failed_sign_in(base) for _ in range(2 * PER_NAME)]
        assert statuses == [400] * PER_NAME + [429] * PER_NAME
    finally:
        server.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(server.wait, 30)
    assert code == 0


def test_a_process_count_out_of_range_is_refused(database_url):
    result = subprocess.run(
        [COPNET, "serve", "--processes", "0"],
        env=copnet_env(database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "0 is not between 1 and 64" in result.stderr


@pytest.mark.parametrize("count", ["two"])
def test_a_process_count_must_be_a_number(database_url, count):
    result = subprocess.run(
        [COPNET, "serve", "--processes", count],
        env=copnet_env(database_url),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "'two' is not a number of processes" in result.stderr
