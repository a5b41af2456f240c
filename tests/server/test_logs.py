"""Logs: one line per record, as text or JSON; the access log of `copnet serve`."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
import urllib.request

import pytest

from server.app import create_app
from server.ops.logs import ACCESS_LOGGER, AccessLogger, JsonFormatter, TextFormatter
from tests.server.test_startup_errors import COPNET, copnet_env
from tests.support.instances import free_port, settings_for

FORGED = "2026-12-02 00:00:00,000 INFO copnet: admin signed in"


def record(message: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("copnet.test", logging.WARNING, __file__, 1, message, args, exc_info)


def test_text_lines_escape_newlines_so_nothing_can_forge_a_line():
    line = TextFormatter().format(record("could not fetch %s", f"https://x.test/\n{FORGED}"))
    assert "\n" not in line
    assert line.endswith(f"copnet.test: could not fetch https://x.test/\\n{FORGED}")


def test_text_tracebacks_are_indented_under_their_line():
    try:
        raise ValueError(f"bad\n{FORGED}")
    except ValueError:
        line = TextFormatter().format(record("failed", exc_info=sys.exc_info()))
    first, *rest = line.splitlines()
    assert first.endswith("copnet.test: failed")
    assert rest and all(part.startswith("    ") for part in rest)


def test_json_lines_carry_time_level_logger_and_message():
    line = JsonFormatter().format(record("fetched %s", "https://x.test/\nforged"))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "copnet.test"
    assert entry["message"] == "fetched https://x.test/\nforged"
    assert entry["time"].endswith("+00:00")


@pytest.fixture
def captured_access():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield stream
    logger.removeHandler(handler)


async def test_access_lines_in_combined_format_and_json_fields(
    aiohttp_server, database_url, captured_access
):
    app = create_app(settings_for(database_url))
    server = await aiohttp_server(
        app, access_log_class=AccessLogger, access_log=logging.getLogger(ACCESS_LOGGER)
    )
    url = f"http://127.0.0.1:{server.port}/c/a%0A{FORGED.replace(' ', '%20')}%22?q=1"
    request = urllib.request.Request(url, headers={"User-Agent": 'evil" agent', "Referer": "-x"})
    status = await asyncio.to_thread(_status_of, request)
    assert status == 404
    lines = [json.loads(line) for line in captured_access.getvalue().splitlines()]
    access = [line for line in lines if line.get("path", "").startswith("/c/")]
    assert len(access) == 1
    entry = access[0]
    assert entry["method"] == "GET" and entry["status"] == 404 and entry["remote"] == "127.0.0.1"
    assert entry["path"].startswith("/c/a%0A2026") and entry["path"].endswith("%22?q=1")
    assert 0 <= entry["duration"] < 10
    assert entry["user_agent"] == 'evil" agent'
    combined = entry["message"]
    assert combined.startswith("127.0.0.1 - - [")
    assert '"GET /c/a%0A' in combined and '%22?q=1 HTTP/1.1" 404 ' in combined
    assert combined.endswith('"-x" "evil\\" agent"')


def _status_of(request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _start_serving(env: dict[str, str]) -> tuple[subprocess.Popen, int, str]:
    # A port free a moment ago can be taken by another test process before copnet binds it
    # (seen in CI with xdist): then copnet says so, and another port is tried.
    for _attempt in range(3):
        port = free_port()
        process = subprocess.Popen(
            [COPNET, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        first = process.stdout.readline()
        if "serving" in first:
            return process, port, first
        process.wait(timeout=30)  # it stops when it cannot serve
        problem = process.stderr.read() or first
        if "already in use" not in problem:
            raise AssertionError(problem)
    raise AssertionError(f"no free port after three tries: {problem}")


def _serve_and_get(env: dict[str, str], paths: list[str]) -> tuple[str, str]:
    process, port, first = _start_serving(env)
    try:
        for path in paths:
            _status_of(urllib.request.Request(f"http://127.0.0.1:{port}{path}"))
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    return first + out, err


async def test_serve_logs_requests_as_json_lines(database_url):
    env = copnet_env(database_url, COPNET_LOG_FORMAT="json")
    _out, err = await asyncio.to_thread(_serve_and_get, env, ["/healthz", "/c/x%0Ay"])
    entries = [json.loads(line) for line in err.splitlines()]  # every line is JSON
    access = [entry for entry in entries if entry["logger"] == ACCESS_LOGGER]
    assert [(entry["path"], entry["status"]) for entry in access] == [
        ("/healthz", 200),
        ("/c/x%0Ay", 404),
    ]
    assert {"time", "level", "message", "method", "duration", "remote"} <= set(access[0])


async def test_serve_logs_requests_as_text_by_default_and_can_be_told_not_to(database_url):
    _out, err = await asyncio.to_thread(_serve_and_get, copnet_env(database_url), ["/healthz"])
    access = [line for line in err.splitlines() if f" INFO {ACCESS_LOGGER}: " in line]
    assert len(access) == 1 and '"GET /healthz HTTP/1.1" 200 ' in access[0]
    quiet = copnet_env(database_url, COPNET_ACCESS_LOG="false")
    _out, err = await asyncio.to_thread(_serve_and_get, quiet, ["/healthz"])
    assert ACCESS_LOGGER not in err
