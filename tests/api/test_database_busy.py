"""A write that keeps colliding in the database is a 503 problem the till can retry, never a 500 (issue 9)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from tapzone.api.routers import visits
from tests.api.conftest import Api, assert_problem


def test_a_deadlock_outside_the_retries_is_answered_503_with_retry_after(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def collide(*_: Any, **__: Any) -> None:
        raise sa.exc.OperationalError("SELECT … FOR UPDATE", {}, psycopg.errors.DeadlockDetected("deadlock detected"))

    monkeypatch.setattr(visits, "issue_medium", collide)
    response = api.post("/visits", {"medium_uid": "BUSY1", "credit_type": "credit", "credit_limit": api.eur(1000)})
    assert_problem(response, 503, "database-busy")
    assert response.headers["retry-after"] == "1"


def test_other_database_errors_stay_server_errors(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: Any, **__: Any) -> None:
        raise sa.exc.ProgrammingError("SELECT …", {}, psycopg.errors.UndefinedTable("no such table"))

    monkeypatch.setattr(visits, "issue_medium", broken)
    with pytest.raises(sa.exc.ProgrammingError):  # the test client re-raises what became a 500
        api.post("/visits", {"medium_uid": "BUSY2", "credit_type": "credit", "credit_limit": api.eur(1000)})
