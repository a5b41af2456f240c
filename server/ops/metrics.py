"""Prometheus metrics, one registry per application; where they are served is
`server/ops/metrics_exposure.py`.

Request latency is labelled by the route's pattern (`/c/{name}`), never the raw path, so a
scan of random URLs cannot create series. Queue and breaker gauges are set at scrape time.
"""

from __future__ import annotations

import functools
import json
import time

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily

from models.queue_stats import BreakerFigures, QueueFigures
from server.appkeys import DELIVERY, METRICS
from server.ops.metrics_exposure import guarded_metrics, metrics_listener

UNMATCHED = "(unmatched)"
INBOX_ANSWERS = {"accepted", "duplicate", "ignored"}
INBOX_REJECTIONS = {
    400: "invalid",
    401: "signature",
    403: "blocked",
    404: "no_such_inbox",
    405: "method",
    413: "too_large",
    429: "rate_limited",
    503: "unavailable",
}
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """Every copnet metric, registered on a registry of its own (one per app)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.request_seconds = Histogram(
            "copnet_http_request_duration_seconds",
            "Time to answer an HTTP request, by route pattern",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.responses = Counter(
            "copnet_http_responses",
            "HTTP responses by route pattern and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.inbox = Counter(
            "copnet_inbox_activities",
            "Activities POSTed to an inbox: accepted (accepted, duplicate, ignored) or rejected",
            ["outcome", "reason"],
            registry=registry,
        )
        self.queue_rows = Gauge(
            "copnet_queue_rows",
            "Rows of a work queue by state (pending includes due, leased and waiting retries)",
            ["queue", "state"],
            registry=registry,
        )
        self.queue_oldest = Gauge(
            "copnet_queue_oldest_pending_age_seconds",
            "Age of the oldest pending row of a queue (0 when none is pending)",
            ["queue"],
            registry=registry,
        )
        self.hosts_open = Gauge(
            "copnet_delivery_hosts_breaker_open",
            "Remote hosts whose circuit breaker is open (deliveries to them wait)",
            registry=registry,
        )
        self.host_open_until = Gauge(
            "copnet_delivery_host_breaker_open_until_timestamp_seconds",
            "When an open breaker lets deliveries to this host be tried again",
            ["host"],
            registry=registry,
        )
        self.host_failures = Gauge(
            "copnet_delivery_host_consecutive_failures",
            "Consecutive failed deliveries to a host with an open breaker",
            ["host"],
            registry=registry,
        )
        self.host_pending = Gauge(
            "copnet_delivery_host_pending_deliveries",
            "Pending deliveries to a host with an open breaker",
            ["host"],
            registry=registry,
        )
        self.stats_up = Gauge(
            "copnet_queue_stats_up",
            "1 when the last scrape could read the queue figures from the database",
            registry=registry,
        )
        # Each labelled series, found once: `labels()` costs more than the count itself, and
        # every request counts. Routes are patterns, so these stay small.
        self._timings: dict[tuple[str, ...], Histogram] = {}
        self._responses: dict[tuple[str, ...], Counter] = {}
        self._inbox: dict[tuple[str, ...], Counter] = {}
        for outcome, reasons in (("accepted", INBOX_ANSWERS), ("rejected", INBOX_REJECTIONS)):
            for reason in reasons.values() if isinstance(reasons, dict) else reasons:
                self.inbox.labels(outcome, reason)  # present at 0 from the first scrape

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        _series(self._timings, self.request_seconds, (method, route)).observe(seconds)
        _series(self._responses, self.responses, (method, route, str(status))).inc()

    def record_inbox(self, status: int, answer: str | None) -> None:
        """Count one inbox POST by what it was answered."""
        if status == 202:
            labels = ("accepted", answer if answer in INBOX_ANSWERS else "accepted")
        else:
            labels = ("rejected", INBOX_REJECTIONS.get(status, str(status)))
        _series(self._inbox, self.inbox, labels).inc()

    def set_queues(self, queues: list[QueueFigures], breakers: BreakerFigures) -> None:
        """Replace the queue and breaker gauges with freshly read figures."""
        self.queue_rows.clear()
        for queue in queues:
            states = {
                "pending": queue.pending,
                "due": queue.due,
                "leased": queue.leased,
                "failed": queue.failed,
                **queue.finished,
            }
            for state, rows in states.items():
                self.queue_rows.labels(queue.name, state).set(rows)
            self.queue_oldest.labels(queue.name).set(queue.oldest_age or 0)
        self.hosts_open.set(breakers.open_count)
        for gauge in (self.host_open_until, self.host_failures, self.host_pending):
            gauge.clear()
        for host in breakers.hosts:
            self.host_open_until.labels(host.domain).set(host.unreachable_until.timestamp())
            self.host_failures.labels(host.domain).set(host.consecutive_failures)
            self.host_pending.labels(host.domain).set(host.pending_deliveries)


def _series(found: dict, metric, labels: tuple[str, ...]):
    """The metric's series for these labels, asked of prometheus_client once."""
    series = found.get(labels)
    if series is None:
        series = found[labels] = metric.labels(*labels)
    return series


class _DeliveryTotals:
    """This process's delivery attempts by outcome, read from its worker at scrape time."""

    def __init__(self, app: web.Application) -> None:
        self._app = app

    def describe(self):
        return []

    def collect(self):
        family = CounterMetricFamily(
            "copnet_deliveries",
            "Delivery attempts made by this process's worker, by outcome",
            labels=["outcome"],
        )
        worker = self._app.get(DELIVERY)
        totals = worker.totals if worker is not None else None
        for outcome in ("delivered", "retried", "failed", "postponed", "released"):
            family.add_metric([outcome], getattr(totals, outcome, 0) if totals else 0)
        yield family


def install_metrics(app: web.Application) -> None:
    """Give the app its metrics, the request-timing middleware and the configured exposure."""
    metrics = Metrics()
    metrics.registry.register(_DeliveryTotals(app))
    app[METRICS] = metrics
    app.middlewares.insert(0, measure_requests)
    app.router.add_get("/metrics", guarded_metrics, name="metrics")
    app.cleanup_ctx.append(metrics_listener)


@web.middleware
async def measure_requests(request: web.Request, handler) -> web.StreamResponse:
    """Time every request and count inbox answers (outermost: sees the final status)."""
    started = time.perf_counter()
    status = 500
    response: web.StreamResponse | None = None
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_pattern(request)
        metrics = request.app[METRICS]
        metrics.observe_request(request.method, route, status, time.perf_counter() - started)
        if request.method == "POST" and route.endswith("/inbox"):
            metrics.record_inbox(status, _inbox_answer(response))


def route_pattern(request: web.Request) -> str:
    """The matched route's pattern (`/c/{name}`), or a fixed label when nothing matched."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


def _inbox_answer(response: web.StreamResponse | None) -> str | None:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes) or len(body) > 1024:
        return None
    return _status_in(body)


# Inbox answers are a handful of fixed bodies: each is parsed once.
@functools.lru_cache(maxsize=256)
def _status_in(body: bytes) -> str | None:
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        return None
    return status if isinstance(status, str) else None
