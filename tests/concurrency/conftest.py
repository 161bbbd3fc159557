"""PostgreSQL-only fixtures for the race tests: SQLite takes one database-wide write lock per transaction, so
the interleavings these tests hunt for exist only on a server with row locks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tapzone.store.db import make_engine
from tapzone.store.uow import UnitOfWork
from tests.databases import PgTemplate, require_pg
from tests.world import World, build_world


@pytest.fixture
def pg_url(pg_template: PgTemplate) -> Iterator[str]:
    require_pg()
    url = pg_template.clone()
    try:
        yield url
    finally:
        pg_template.drop(url)


@pytest.fixture
def pg_world(pg_url: str) -> Iterator[World]:
    engine = make_engine(pg_url)
    try:
        yield build_world(UnitOfWork(engine, clock=World.default_clock()))
    finally:
        engine.dispose()
