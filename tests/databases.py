"""Test databases: a migrated SQLite file copied per test, and PostgreSQL databases cloned from a migrated
template (DESIGN §8). PostgreSQL is mandatory under CI=true and skipped with a clear message otherwise."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from tapzone.store.db import make_engine, normalise_url
from tapzone.store.migrate import upgrade

PG_URL = os.environ.get("TAPZONE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pg_admin_engine() -> sa.Engine:
    return sa.create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)


def pg_unavailable_reason() -> str | None:
    try:
        with pg_admin_engine().connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as error:  # any failure to connect means the suite cannot run here
        return f"PostgreSQL at {PG_URL} does not answer ({type(error).__name__}); set TAPZONE_TEST_PG_URL"
    return None


def require_pg() -> None:
    reason = pg_unavailable_reason()
    if reason is None:
        return
    if IN_CI:
        pytest.fail(f"CI=true makes the PostgreSQL suite mandatory: {reason}")
    pytest.skip(reason)


def pg_url_for(database: str) -> str:
    return sa.engine.make_url(normalise_url(PG_URL)).set(database=database).render_as_string(hide_password=False)


class PgTemplate:
    """One migrated template database per test session; each test gets a fresh clone of it."""

    def __init__(self) -> None:
        self.name = f"tapzone_tpl_{uuid.uuid4().hex[:10]}"
        self.created = False
        self.clones: list[str] = []

    def clone(self) -> str:
        admin = pg_admin_engine()
        with admin.connect() as conn:
            if not self.created:
                conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
                engine = make_engine(pg_url_for(self.name), poolclass=sa.pool.NullPool)
                upgrade(engine)
                engine.dispose()
                self.created = True
            name = f"tapzone_t_{uuid.uuid4().hex[:12]}"
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        self.clones.append(name)
        return pg_url_for(name)

    def drop(self, url: str) -> None:
        name = sa.engine.make_url(url).database
        with pg_admin_engine().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def drop_all(self) -> None:
        if not self.created:
            return
        with pg_admin_engine().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class SqliteTemplate:
    def __init__(self, directory: Path) -> None:
        self.path = directory / "template.db"
        self.created = False

    def clone(self, target: Path) -> str:
        if not self.created:
            engine = make_engine(f"sqlite:///{self.path}")
            upgrade(engine)
            engine.dispose()  # the last connection to close checkpoints the WAL into the main file
            self.created = True
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"
