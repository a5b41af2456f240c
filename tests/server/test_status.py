"""`copnet status`: the same queue and breaker figures as /metrics, as terminal tables."""

from __future__ import annotations

import asyncio

from models.database import create_engine, session_factory
from server.ops.status import duration, table
from tests.server.test_metrics import seed_queues
from tests.server.test_startup_errors import copnet_env, run_copnet


def cells(output: str, first: str) -> list[str]:
    """The whitespace-separated cells of the table row that starts with `first`."""
    rows = [line.split() for line in output.splitlines() if line.split()[:1] == [first]]
    assert len(rows) == 1, output
    return rows[0]


async def test_status_prints_queues_and_open_breakers(database_url):
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            await seed_queues(session)
    finally:
        await engine.dispose()
    result = await asyncio.to_thread(run_copnet, "status", env=copnet_env(database_url))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    header = cells(out, "queue")
    assert header[:5] == ["queue", "pending", "due", "leased", "failed"]
    # queue pending due leased failed | oldest pending (two words) | finished
    assert cells(out, "intake")[:7] == ["intake", "2", "1", "1", "1", "2h", "0m"]
    assert cells(out, "intake")[7:] == ["done", "1"]
    assert cells(out, "delivery")[:7] == ["delivery", "3", "2", "0", "0", "5h", "0m"]
    assert cells(out, "jobs")[:5] == ["jobs", "2", "1", "0", "0"]
    assert cells(out, "jobs")[5] in ("30m", "29m")
    assert cells(out, "jobs")[7:] == ["cancelled", "1"]
    assert "hosts with an open circuit breaker: 1" in out
    down = cells(out, "down.test")
    assert down[1] == "7" and down[-1] == "2"
    assert "back.test" not in out


async def test_status_of_an_empty_network(database_url):
    result = await asyncio.to_thread(run_copnet, "status", env=copnet_env(database_url))
    assert result.returncode == 0, result.stderr
    assert cells(result.stdout, "delivery") == ["delivery", "0", "0", "0", "0", "-", "-"]
    assert "hosts with an open circuit breaker: none" in result.stdout


def test_tables_align_numbers_right_and_text_left():
    lines = table(("name", "rows"), [["intake", "7"], ["delivery", "1234"]])
    assert lines == ["name      rows", "intake       7", "delivery  1234"]


def test_durations_read_as_the_two_largest_units():
    assert [duration(s) for s in (None, 5, 200, 7300, 90000)] == [
        "-",
        "5s",
        "3m 20s",
        "2h 1m",
        "1d 1h",
    ]
