"""`/healthz` (the process answers) and `/readyz` (it can do its work: database and schema).

Neither touches sessions, templates or cookies, so a load balancer probing them every second
costs one tiny response (and, for `/readyz`, one query).
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from models.migrate import current_revision
from server.appkeys import ENGINE
from server.ops.database import schema_problem

READY_TIMEOUT = 3.0
_NO_STORE = {"Cache-Control": "no-store"}


async def healthz(_request: web.Request) -> web.Response:
    """200 while the process runs its event loop; never looks at the database."""
    return web.json_response({"status": "ok"}, headers=_NO_STORE)


async def readyz(request: web.Request) -> web.Response:
    """200 when the database answers and its schema is this code's; 503 with a reason if not."""
    engine = request.app.get(ENGINE)
    problem = "the database is not open yet" if engine is None else await unready_reason(engine)
    if problem is not None:
        body = {"status": "unavailable", "reason": problem}
        return web.json_response(body, status=503, headers=_NO_STORE)
    return web.json_response({"status": "ready"}, headers=_NO_STORE)


async def unready_reason(engine: AsyncEngine, within: float = READY_TIMEOUT) -> str | None:
    """Why this database cannot serve copnet right now, or None when it can."""
    try:
        revision = await asyncio.wait_for(current_revision(engine), within)
    except TimeoutError:
        return f"the database did not answer within {within:g} s"
    except Exception as exc:  # any failure to reach the database means: not ready
        return f"the database is unreachable: {_first_line(exc)}"
    return schema_problem(revision)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
