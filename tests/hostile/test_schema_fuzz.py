"""The whole OpenAPI schema fuzzed by schemathesis (tests/hostile/fuzz.py): no 5xx, no answer outside the schema.

The smoke run here keeps `make test` short (a few examples per operation plus a few stateful scenarios, well
under a minute on SQLite); `TAPZONE_FUZZ_EXAMPLES=200` makes it a long run. Figures go to var/fuzz/summary.json.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tapzone.api.app import create_app
from tapzone.store.db import make_engine
from tapzone.store.tables import staff
from tapzone.store.uow import UnitOfWork
from tapzone.venues.credentials import issue_device_token
from tests.api.conftest import PASSWORD, password_hash
from tests.databases import PgTemplate, SqliteTemplate, require_pg
from tests.hostile.fuzz import (
    FuzzRun,
    TillCredentials,
    examples_per_operation,
    fuzz_stateful,
    fuzz_stateless,
    load_schema,
    timed,
    write_summary,
)
from tests.world import World, build_world


def _credentials(app: FastAPI, world: World) -> TillCredentials:
    """A till token and an administrator signed in on it, as a till would hold them."""
    with world.uow.engine.begin() as conn:
        conn.execute(staff.update().values(password_hash=password_hash()))
    token = issue_device_token(world.uow, world.till_id)
    client = TestClient(app)

    def sign_in() -> str:
        response = client.post(
            "/api/v1/sessions",
            json={"login": "ada", "password": PASSWORD},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        return str(response.json()["session_token"])

    return TillCredentials(token, sign_in)


def _fuzz(url: str, database: str, examples: int, scenarios: int) -> FuzzRun:
    engine = make_engine(url)
    try:
        world = build_world(UnitOfWork(engine, clock=World.default_clock()))
        app = create_app(url, clock=World.default_clock())
        started = time.monotonic()
        run = FuzzRun(database=database, examples_per_operation=examples)
        with TestClient(app):  # runs the app's lifespan around the whole fuzz
            credentials = _credentials(app, world)
            schema = load_schema(app)
            fuzz_stateless(schema, credentials, run)
            fuzz_stateful(schema, credentials, run, scenarios=scenarios, steps=12)
        with engine.connect() as conn:  # the fuzz booked; whatever it booked must still balance
            from tapzone.ledger.check import all_findings

            findings = all_findings(conn)
        assert findings == [], [str(finding) for finding in findings]
        return timed(run, started)
    finally:
        engine.dispose()


def _report(run: FuzzRun) -> None:
    summary = write_summary(run)
    print(
        f"fuzz {run.database}: {run.cases} cases ({run.stateful_steps} stateful steps, {run.linked_steps} along links) "
        f"over {run.operations} "
        f"operations in {run.seconds} s, {len(run.failures)} failures; all runs: {summary['cases']} cases, "
        f"{summary['failures']} failures"
    )
    assert run.operations > 80  # the whole schema, not a part of it
    assert run.stateful_steps > 0
    assert run.failures == [], "\n\n".join(f"{f['operation']} [{f['status']}]\n{f['failure']}" for f in run.failures)


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: SqliteTemplate) -> str:
    return sqlite_template.clone(tmp_path / "fuzz.db")


@pytest.fixture
def pg_url(pg_template: PgTemplate) -> Iterator[str]:
    require_pg()
    url = pg_template.clone()
    try:
        yield url
    finally:
        pg_template.drop(url)


def test_whole_schema_on_sqlite(sqlite_url: str) -> None:
    _report(_fuzz(sqlite_url, "sqlite", examples_per_operation(2), scenarios=examples_per_operation(2) * 4))


@pytest.mark.postgres
def test_whole_schema_on_postgres(pg_url: str) -> None:
    # PostgreSQL is stricter than SQLite (text lengths, NUL), so the same requests can fail only here.
    _report(_fuzz(pg_url, "postgres", examples_per_operation(1), scenarios=examples_per_operation(1) * 4))
