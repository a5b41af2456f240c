"""What every handler of the website repeats: ids and page numbers from the URL, waking the
workers after a commit, and sentences for people."""

from __future__ import annotations

from aiohttp import web

from server.appkeys import DELIVERY, SCHEDULER
from server.http.errors import http_error

MAX_PAGE = 100_000


def path_id(request: web.Request, key: str, what: str) -> int:
    """A numeric id from the URL path; 404 naming `what` when it is not one."""
    raw = request.match_info[key]
    if not raw.isdigit() or len(raw) > 18:
        raise http_error(404, f"no {what} {raw!r}")
    return int(raw)


def list_page(request: web.Request) -> int:
    """The `?page=` of a listing, 1 when absent or nonsense."""
    raw = request.query.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < MAX_PAGE else 1


def wake_delivery(app: web.Application) -> None:
    """Tell this process's delivery worker that new rows were committed (when it runs here)."""
    delivery = app.get(DELIVERY)
    if delivery is not None:
        delivery.wake()


def wake_scheduler(app: web.Application) -> None:
    """Tell this process's scheduler that a job is due now (when it runs here)."""
    scheduler = app.get(SCHEDULER)
    if scheduler is not None:
        scheduler.wake()


def wake_workers(app: web.Application) -> None:
    """Wake the delivery worker and the scheduler (which makes notifications) after a commit
    that queued work for both."""
    wake_delivery(app)
    wake_scheduler(app)


def sentence(text: str) -> str:
    """A message as a sentence: capitalised, ending with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
