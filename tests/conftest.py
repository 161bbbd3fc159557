"""Shared fixtures: a migrated database per test (SQLite and PostgreSQL) and a small demo venue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tapzone.store.db import make_engine
from tapzone.store.uow import UnitOfWork
from tests.databases import PgTemplate, SqliteTemplate, require_pg
from tests.world import World, build_world


@pytest.fixture(scope="session")
def pg_template() -> Iterator[PgTemplate]:
    template = PgTemplate()
    yield template
    template.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: SqliteTemplate, pg_template: PgTemplate
) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_template.clone(tmp_path / "tapzone.db")
        return
    require_pg()
    url = pg_template.clone()
    try:
        yield url
    finally:
        pg_template.drop(url)


@pytest.fixture
def uow(db_url: str) -> Iterator[UnitOfWork]:
    engine = make_engine(db_url)
    try:
        yield UnitOfWork(engine, clock=World.default_clock())
    finally:
        engine.dispose()


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    return build_world(uow)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test is a failure: every optional suite must have run."""
    from tests.databases import IN_CI

    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped and exitstatus == 0:
        if reporter:
            reporter.write_line(f"CI=true: {skipped} test(s) were skipped; every suite must run in CI", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
