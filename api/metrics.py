"""Prometheus metrics: counts of events, never contents, places or people.

Every label value comes from a short fixed list: an HTTP route is its template
(`/api/v1/reports/{report_id}`), never the path, which holds report ids; reports
are counted by kind only, because a count per municipality is a small cell.
Each app has its own registry (`app.state.metrics`): the tests build many apps in
one process. What the database knows is read when Prometheus scrapes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from flows.taxonomy import KINDS
from storage.monitoring import MonitoringCounts, count_for_monitoring
from storage.store import Store

log = logging.getLogger("somos")

METRICS_PATH = "/metrics"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
BOT_OUTCOMES = ("processed", "duplicate", "throttled", "failed")
# Seconds: pages and the queue take milliseconds, a sign-in's Argon2 about half a
# second, a large export a few seconds.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class StoredCounts(Collector):
    """The database's counts, read just before each scrape is rendered."""

    def __init__(self) -> None:
        self.counts: MonitoringCounts | None = None

    def collect(self) -> Iterable[GaugeMetricFamily | CounterMetricFamily]:
        counts = self.counts
        yield GaugeMetricFamily(
            "somos_database_up", "1 if this scrape could read the database, else 0.",
            value=0 if counts is None else 1,
        )
        if counts is None:
            return
        reports = CounterMetricFamily(
            "somos_reports_submitted",
            "Reports submitted, by kind, counted at the end of the hour they were sent in.",
            labels=["kind"],
        )
        for kind in sorted(set(KINDS) | set(counts.reports_by_kind)):
            reports.add_metric([kind], counts.reports_by_kind.get(kind, 0))
        yield reports
        yield GaugeMetricFamily(
            "somos_reports_overdue", "Cases nobody has taken yet, past their deadline.",
            value=counts.overdue,
        )
        yield GaugeMetricFamily(
            "somos_outbox_pending",
            "Notifications neither sent nor given up, queued more than a minute ago.",
            value=counts.outbox_pending,
        )
        settled = CounterMetricFamily(
            "somos_outbox_messages",
            "Notifications settled, by outcome (sent; no_chat: nobody to send to; failed: "
            "refused or out of retries), counted at the end of the hour they were queued in.",
            labels=["outcome"],
        )
        for outcome, total in sorted(counts.outbox_settled.items()):
            settled.add_metric([outcome], total)
        yield settled


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry
    http_requests: Counter
    http_duration: Histogram
    bot_updates: Counter
    background_success: Gauge
    stored: StoredCounts

    def observe_request(self, *, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.http_requests.labels(method, route, f"{status // 100}xx").inc()
        self.http_duration.labels(route).observe(seconds)

    def count_bot_update(self, outcome: str) -> None:
        self.bot_updates.labels(outcome).inc()

    def background_succeeded(self, task: str) -> None:
        self.background_success.labels(task).set_to_current_time()

    async def render(self, store: Store, now: datetime | None = None) -> bytes:
        """The text format, with the database's counts read now (left out if it fails)."""
        try:
            async with store.transaction() as session:
                counts: MonitoringCounts | None = await count_for_monitoring(
                    session=session, now=now or datetime.now(UTC)
                )
        except Exception as error:
            log.warning("metrics: database not read: %s", type(error).__name__)
            counts = None
        # No await between these two lines: concurrent scrapes cannot mix their counts.
        self.stored.counts = counts
        return generate_latest(self.registry)


def create_metrics() -> Metrics:
    # `_created` series would double every counter for a start time nobody alerts on.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    stored = StoredCounts()
    registry.register(stored)
    bot_updates = Counter(
        "somos_bot_updates", "Bot updates handled, by outcome.", ["outcome"], registry=registry
    )
    for outcome in BOT_OUTCOMES:
        bot_updates.labels(outcome)
    return Metrics(
        registry=registry,
        http_requests=Counter(
            "somos_http_requests", "HTTP requests, by method, route template and status class.",
            ["method", "route", "status"], registry=registry,
        ),
        http_duration=Histogram(
            "somos_http_request_duration_seconds", "Time to answer, by route template.",
            ["route"], buckets=BUCKETS, registry=registry,
        ),
        bot_updates=bot_updates,
        background_success=Gauge(
            "somos_background_last_success_timestamp_seconds",
            "When each background loop (expiry, escalation, audit, alerts, delivery, memory) last "
            "finished a run.",
            ["task"], registry=registry,
        ),
        stored=stored,
    )


def _mount_of(scope: Scope) -> str | None:
    app = scope.get("app")
    for route in getattr(getattr(app, "router", None), "routes", ()):
        if isinstance(route, Mount) and route.matches(scope)[0] is Match.FULL:
            return route.path + "/{path}"
    return None


class RequestMetrics:
    """ASGI middleware: counts and times each request by route template and status class."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Mounts (the static files) do not record their route; read before routing changes
        # the scope.
        mount = _mount_of(scope)
        status = 500  # what the client gets if the app raises before answering

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_status)
        finally:
            # The router leaves the matched route in the scope; a path matching no route is
            # one label, whatever it was.
            path = getattr(scope.get("route"), "path", None)
            route = path if isinstance(path, str) else mount or UNMATCHED
            if route != METRICS_PATH:  # scrapes would drown the requests people make
                self.metrics.observe_request(
                    method=scope["method"], route=route, status=status,
                    seconds=time.perf_counter() - started,
                )
