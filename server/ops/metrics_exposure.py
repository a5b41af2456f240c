"""Where the metrics are served (README, "Operations").

On the main port at `/metrics` only when `COPNET_METRICS_TOKEN` is set (`Authorization: Bearer
TOKEN`; 401 without it, 404 when no token is configured), and/or on a listener of its own at
`COPNET_METRICS_HOST:COPNET_METRICS_PORT` without a token (for `copnet worker` processes too,
which serve no HTTP otherwise). Queue and breaker figures are read from the database at scrape
time (models.queue_stats), the same figures `copnet status` prints.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from models.base import utcnow
from models.queue_stats import breaker_figures, queue_figures
from server.appkeys import METRICS, SESSIONS, SETTINGS
from server.http.errors import http_error
from server.ops.listen import CannotListen, listen_problem

log = logging.getLogger(__name__)


async def render(app: web.Application) -> web.Response:
    """Read the queue figures and answer with every metric in Prometheus' text format."""
    metrics = app[METRICS]
    try:
        now = utcnow()
        async with app[SESSIONS]() as session:
            queues = await queue_figures(session, now)
            breakers = await breaker_figures(session, now)
        metrics.set_queues(queues, breakers)
        metrics.stats_up.set(1)
    except Exception:  # the scrape still shows the request figures
        log.warning("metrics: cannot read the queue figures", exc_info=True)
        metrics.stats_up.set(0)
    body = generate_latest(metrics.registry)
    response = web.Response(body=body, headers={"Cache-Control": "no-store"})
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response


async def guarded_metrics(request: web.Request) -> web.Response:
    """`/metrics` on the main port: 404 unless a token is set, then 401 without it."""
    token = request.app[SETTINGS].metrics_token
    if not token:
        raise http_error(404, "no such page")
    offered = request.headers.get("Authorization", "")
    expected = f"Bearer {token}"
    if not hmac.compare_digest(offered.encode(), expected.encode()):
        error = http_error(401, "metrics need the header Authorization: Bearer TOKEN")
        error.headers["WWW-Authenticate"] = 'Bearer realm="copnet metrics"'
        raise error
    return await render(request.app)


async def metrics_listener(app: web.Application) -> AsyncIterator[None]:
    """Serve `/metrics` without a token on COPNET_METRICS_PORT, when it is set."""
    settings = app[SETTINGS]
    if settings.metrics_port is None:
        yield
        return

    async def open_metrics(_request: web.Request) -> web.Response:
        return await render(app)

    side = web.Application()
    side.router.add_get("/metrics", open_metrics)
    runner = web.AppRunner(side, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, settings.metrics_host, settings.metrics_port)
        try:
            await site.start()
        except OSError as exc:
            raise CannotListen(
                listen_problem(
                    exc,
                    settings.metrics_host,
                    settings.metrics_port,
                    "COPNET_METRICS_PORT",
                    "COPNET_METRICS_HOST",
                )
            ) from exc
        yield
    finally:
        await runner.cleanup()
