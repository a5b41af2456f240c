"""`copnet status`: the queue and breaker figures `/metrics` exports, as tables."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from sqlalchemy.engine import make_url

from models.base import utcnow
from models.queue_stats import BreakerFigures, QueueFigures, breaker_figures, queue_figures
from server.cli.commands import open_session
from server.settings import Settings

QUEUE_COLUMNS = ("queue", "pending", "due", "leased", "failed", "oldest pending", "finished")
HOST_COLUMNS = ("host", "failures", "retry after (UTC)", "pending deliveries")


def add_status_command(subparsers: argparse._SubParsersAction) -> None:
    """Register `copnet status`."""
    status = subparsers.add_parser(
        "status",
        help="show the work queues (intake, delivery, jobs) and unreachable hosts",
        description="pending: not finished (due now, leased, or waiting for a retry time); "
        "due: ready for a worker now; leased: in a worker's hands; failed: given up.",
    )
    status.set_defaults(handler=_run_status)


def _run_status(settings: Settings, _args: argparse.Namespace) -> int:
    print(asyncio.run(status_report(settings)), end="")
    return 0


async def status_report(settings: Settings) -> str:
    """The whole report as text."""
    now = utcnow()
    async with open_session(settings) as session:
        queues = await queue_figures(session, now)
        breakers = await breaker_figures(session, now)
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    lines = [f"copnet at {settings.url}, database {database}, {now:%Y-%m-%d %H:%M:%S} UTC", ""]
    lines += table(QUEUE_COLUMNS, [_queue_row(queue) for queue in queues])
    lines += ["", *_breaker_lines(breakers)]
    return "\n".join(lines) + "\n"


def _queue_row(queue: QueueFigures) -> list[str]:
    finished = ", ".join(f"{state} {count}" for state, count in sorted(queue.finished.items()))
    return [
        queue.name,
        str(queue.pending),
        str(queue.due),
        str(queue.leased),
        str(queue.failed),
        duration(queue.oldest_age),
        finished or "-",
    ]


def _breaker_lines(breakers: BreakerFigures) -> list[str]:
    if not breakers.open_count:
        return ["hosts with an open circuit breaker: none"]
    lines = [f"hosts with an open circuit breaker: {breakers.open_count}"]
    rows = [
        [
            host.domain,
            str(host.consecutive_failures),
            f"{host.unreachable_until:%Y-%m-%d %H:%M:%S}",
            str(host.pending_deliveries),
        ]
        for host in breakers.hosts
    ]
    lines += table(HOST_COLUMNS, rows)
    if breakers.open_count > len(breakers.hosts):
        lines.append(f"... and {breakers.open_count - len(breakers.hosts)} more")
    return lines


def table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; numbers right-aligned, text left-aligned."""
    widths = [max(len(cell) for cell in column) for column in zip(columns, *rows, strict=False)]
    numeric = [all(row[i].isdigit() for row in rows) and rows for i in range(len(columns))]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(cells, widths, numeric, strict=True)
        ]
        return "  ".join(padded).rstrip()

    return [line(columns), *(line(row) for row in rows)]


def duration(seconds: float | None) -> str:
    """`-` for nothing pending, else the largest two units: `45s`, `3m 20s`, `2h 5m`, `4d 1h`."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"
