"""The one place that builds the web application (a factory, no import-time globals)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request

from tapzone import __version__
from tapzone.api.auth import Authenticator
from tapzone.api.deps import Services
from tapzone.api.limits import install_body_limits
from tapzone.api.metrics import install_metrics
from tapzone.api.problems import PROBLEM_BASE, install_problem_handlers, problem_catalogue
from tapzone.api.routers import (
    catalog,
    chain,
    customers,
    drawer,
    gates,
    media,
    money,
    payment_webhooks,
    payments,
    payouts,
    plans,
    portal,
    portal_pins,
    price_groups,
    receipts,
    reports,
    sessions,
    settings,
    support,
    tabs,
    visits,
)
from tapzone.clock import Clock
from tapzone.errors import NotFound
from tapzone.store.db import make_engine, request_threads
from tapzone.store.uow import InFlightPolicy, UnitOfWork
from tapzone.store.wal import checkpoint_in_background
from tapzone.web.app import install_web

API_PREFIX = "/api/v1"


def create_app(database_url: str | None = None, clock: Clock | None = None) -> FastAPI:
    engine = make_engine(database_url)
    uow = UnitOfWork(engine, clock=clock, in_flight_policy=InFlightPolicy.REFUSE)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Sync routes run in anyio's thread pool; keep it no larger than the connection pool so requests
        # queue fairly here instead of waiting inside the pool or the database's lock.
        anyio.to_thread.current_default_thread_limiter().total_tokens = request_threads(engine)
        stop_checkpoints = checkpoint_in_background(engine)
        try:
            yield
        finally:
            if stop_checkpoints is not None:
                stop_checkpoints()
            engine.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="tapzone",
        version=__version__,
        summary="Cards and wristbands for leisure venues: tabs, prepaid value, settlement, exact ledger.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.services = Services(uow=uow, auth=Authenticator(uow))
    install_problem_handlers(app)
    install_body_limits(app)
    for module in (
        sessions,
        visits,
        tabs,
        money,
        media,
        catalog,
        gates,
        settings,
        customers,
        price_groups,
        plans,
        chain,
        payments,
        payouts,
        drawer,
        receipts,
        reports,
        portal,
        portal_pins,
        payment_webhooks,
        support,
    ):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(media.collection, prefix=API_PREFIX)
    install_web(app)
    install_metrics(app)

    @app.get(f"{API_PREFIX}/health", tags=["meta"])
    def health() -> dict[str, str]:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    @app.get(PROBLEM_BASE.rstrip("/"), tags=["meta"])
    def problems() -> list[dict[str, Any]]:
        """Every problem `type` the API answers with."""
        return problem_catalogue()

    @app.get(PROBLEM_BASE + "{slug}", tags=["meta"])
    def problem(slug: str, request: Request) -> dict[str, Any]:
        for entry in problem_catalogue():
            if entry["type"] == PROBLEM_BASE + slug:
                return entry
        raise NotFound(f"no problem type {slug!r}")

    return app
