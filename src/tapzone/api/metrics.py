"""Prometheus metrics at /metrics: request latency per route template, bookings by entry code, gate and
resource-use denials by reason.

Each app owns its `CollectorRegistry` (the factory runs many times in one test process; a global registry
would refuse the second app's metrics). Bookings and denials are counted from what a transaction observed,
and only after it committed (`UnitOfWork.observers`): a rolled-back or retried request and an idempotent
replay count nothing, so the counters agree with the ledger.

Who may read it: metrics tell a venue's turnover and traffic, so they are not public. With
`TAPZONE_METRICS_TOKEN` set, a scrape must send `Authorization: Bearer <token>` (from any address);
without it, only a direct client on the loopback address is answered — and not when the request came
through a reverse proxy (a Forwarded or X-Forwarded-For header), since a proxy on the same host would
otherwise hand the page to anyone. Everything else gets 401.

Several `tapzone serve` workers: each is its own process with its own counters, so `serve` points
`PROMETHEUS_MULTIPROC_DIR` at a fresh directory before the workers start; prometheus-client then keeps
every worker's values in files there and the scrape adds them up (`MultiProcessCollector`).
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from tapzone.access.model import Reason
from tapzone.api.observed import ObservedRequest, ObserveRequests, RouteTemplates
from tapzone.errors import Unauthenticated
from tapzone.ledger.codes import EntryCode
from tapzone.plans.usage import Denial
from tapzone.store.uow import Observation, UnitOfWork

METRICS_PATH = "/metrics"
TOKEN_ENV = "TAPZONE_METRICS_TOKEN"  # noqa: S105 - the name of the variable, not a token
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
LOOPBACK = frozenset({"127.0.0.1", "::1"})
# Taps and sales take milliseconds; reports and PDFs up to seconds. Finer steps where the gate budget lies.
LATENCY_BUCKETS_S = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
REQUEST_LOGGER = "tapzone.request"

request_log = logging.getLogger(REQUEST_LOGGER)


class Metrics:
    """One app's metrics and the registry they live in."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_duration = Histogram(
            "tapzone_http_request_duration_seconds",
            "Time until the response headers were sent, per route template, method and status class.",
            ["route", "method", "status_class"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.bookings = Counter(
            "tapzone_bookings", "Committed journal entries by entry code.", ["code"], registry=self.registry
        )
        self.gate_denials = Counter(
            "tapzone_gate_denials",
            "Committed gate taps that were refused, by reason.",
            ["reason"],
            registry=self.registry,
        )
        self.resource_denials = Counter(
            "tapzone_resource_denials",
            "Committed resource-use requests (sunbed, sauna) that were refused, by reason.",
            ["reason"],
            registry=self.registry,
        )
        # Every known label value starts at 0, so an increase is visible from the first scrape on.
        for code in EntryCode:
            self.bookings.labels(code=code.value)
        for reason in Reason:
            self.gate_denials.labels(reason=reason.value)
        for denial in Denial:
            self.resource_denials.labels(reason=denial.value)

    def count_committed(self, observations: Sequence[Observation]) -> None:
        for topic, label in observations:
            if topic == "booking":
                self.bookings.labels(code=label).inc()
            elif topic == "gate_denial":
                self.gate_denials.labels(reason=label).inc()
            elif topic == "resource_denial":
                self.resource_denials.labels(reason=label).inc()

    def observe_request(self, request: ObservedRequest) -> None:
        status_class = f"{request.status // 100}xx"
        self.request_duration.labels(request.route, request.method, status_class).observe(request.duration_s)

    def exposition(self) -> bytes:
        directory = os.environ.get(MULTIPROCESS_ENV)
        if not directory:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(merged)


def watch_unit_of_work(uow: UnitOfWork, metrics: Metrics) -> None:
    """Count what `uow`'s transactions book and refuse (the API's, or a gate bridge's)."""
    uow.observers.append(metrics.count_committed)


def log_request(request: ObservedRequest) -> None:
    if not request_log.isEnabledFor(logging.INFO):
        return
    duration_ms = round(request.duration_s * 1000, 2)
    request_log.info(
        "%s %s %s %.2fms",
        request.method,
        request.route,
        request.status,
        duration_ms,
        extra={
            "method": request.method,
            "route": request.route,
            "status": request.status,
            "duration_ms": duration_ms,
            "request_id": request.request_id,
            "idempotency_key": request.idempotency_key,
            "device_id": request.device_id,
            "venue_id": request.venue_id,
            "staff_id": request.staff_id,
        },
    )


def _may_scrape(request: Request, token: str | None) -> bool:
    if token:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())
    proxied = "forwarded" in request.headers or "x-forwarded-for" in request.headers
    return request.client is not None and request.client.host in LOOPBACK and not proxied


def install_metrics(app: FastAPI, *, token: str | None = None) -> Metrics:
    """Time every request, count what the app's unit of work commits, and serve both at /metrics."""
    metrics = Metrics()
    app.state.metrics = metrics
    watch_unit_of_work(app.state.services.uow, metrics)
    scrape_token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    routes = RouteTemplates(app)

    def done(request: ObservedRequest) -> None:
        metrics.observe_request(request)
        log_request(request)

    app.add_middleware(ObserveRequests, routes=routes, done=done)

    @app.get(METRICS_PATH, include_in_schema=False)
    def serve_metrics(request: Request) -> Response:
        if not _may_scrape(request, scrape_token):
            raise Unauthenticated(f"metrics are served to loopback clients or with the token in {TOKEN_ENV}")
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return metrics
