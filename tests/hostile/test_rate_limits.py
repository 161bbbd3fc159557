"""Limits on staff sign-in and on failed medium lookups (the portal PIN's are in tests/api/test_portal_http.py).

Each: the limit answers 429 problem+json with Retry-After, successes do not use it up, parallel guesses cannot
get past it, and the window ends on the clock. Expired counters are purged.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from tapzone.cli import app as cli_app
from tapzone.clock import FixedClock
from tapzone.context import MediumEntry
from tapzone.errors import RateLimited, Unauthenticated, UnknownMedium
from tapzone.media.lookup_limits import LOOKUP_LIMIT
from tapzone.pos.tabs import view_tab
from tapzone.store.rate_limits import RETENTION, Limit, purge_expired_counters
from tapzone.store.tables import rate_limits
from tapzone.store.uow import UnitOfWork
from tapzone.venues.credentials import SIGN_IN_DEVICE_LIMIT, SIGN_IN_LOGIN_LIMIT, DeviceIdentity, sign_in
from tests.api.conftest import PASSWORD, Api, assert_problem, password_hash
from tests.hostile.conftest import SQLITE_ONLY
from tests.world import World

WRONG = "not the password"


def api_sign_in(api: Api, login: str, password: str) -> object:
    return api.client.post(
        "/api/v1/sessions",
        json={"login": login, "password": password},
        headers={"Authorization": f"Bearer {api.till_token}"},
    )


@SQLITE_ONLY
def test_sign_in_per_login_limit(api: Api, api_clock: FixedClock) -> None:
    for _ in range(SIGN_IN_LOGIN_LIMIT.attempts):
        assert_problem(api_sign_in(api, "kim", WRONG), 401, "unauthenticated")
    limited = api_sign_in(api, "kim", PASSWORD)  # even the right password, until the window ends
    body = assert_problem(limited, 429, "rate-limited")
    assert 0 < int(limited.headers["Retry-After"]) <= SIGN_IN_LOGIN_LIMIT.window.total_seconds()
    assert body["title"] == "Zu viele Versuche"  # the venue's language (German), like every problem title
    assert api_sign_in(api, "mo", PASSWORD).status_code == 201  # another login on the same till is not held up
    api_clock.advance(SIGN_IN_LOGIN_LIMIT.window)
    assert api_sign_in(api, "kim", PASSWORD).status_code == 201


@SQLITE_ONLY
def test_sign_in_successes_do_not_use_up_the_limit(api: Api) -> None:
    for _ in range(SIGN_IN_DEVICE_LIMIT.attempts + 2):
        assert api_sign_in(api, "kim", PASSWORD).status_code == 201
    for _ in range(SIGN_IN_LOGIN_LIMIT.attempts - 1):
        assert_problem(api_sign_in(api, "kim", WRONG), 401, "unauthenticated")
    assert api_sign_in(api, "kim", PASSWORD).status_code == 201  # forgets the login's failures
    for _ in range(SIGN_IN_LOGIN_LIMIT.attempts):
        assert_problem(api_sign_in(api, "kim", WRONG), 401, "unauthenticated")
    assert_problem(api_sign_in(api, "kim", WRONG), 429, "rate-limited")


@SQLITE_ONLY
def test_sign_in_per_device_limit_across_logins(api: Api) -> None:
    logins = [f"guess-{n}" for n in range(SIGN_IN_DEVICE_LIMIT.attempts)]
    for login in logins:
        assert_problem(api_sign_in(api, login, WRONG), 401, "unauthenticated")
    assert_problem(api_sign_in(api, "kim", PASSWORD), 429, "rate-limited")
    # The limit is the till's: the second till signs in as usual.
    other = api.client.post(
        "/api/v1/sessions",
        json={"login": "kim", "password": PASSWORD},
        headers={"Authorization": f"Bearer {api.till2_token}"},
    )
    assert other.status_code == 201


@SQLITE_ONLY
def test_web_sign_in_is_limited_too(api: Api) -> None:
    api.client.cookies.set("tz_device", api.till_token)
    for _ in range(SIGN_IN_LOGIN_LIMIT.attempts):
        page = api.client.post("/sign-in", data={"login": "kim", "password": WRONG}, follow_redirects=False)
        assert page.status_code == 401
    page = api.client.post("/sign-in", data={"login": "kim", "password": PASSWORD}, follow_redirects=False)
    assert page.status_code == 429
    assert "Zu viele Versuche. Bitte versuchen Sie es in 15 Min. erneut." in page.text
    assert int(page.headers["Retry-After"]) > 0


def _device(world: World) -> DeviceIdentity:
    return DeviceIdentity(venue_id=world.venue_id, device_id=world.till_id, device_kind="till", venue_language="de")


def _parallel(count: int, action: object) -> list[str]:
    def attempt(_: int) -> str:
        try:
            action()  # type: ignore[operator]
        except RateLimited:
            return "limited"
        except (Unauthenticated, UnknownMedium):
            return "refused"
        return "ok"

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(attempt, range(count)))


def test_parallel_password_guesses_cannot_pass_the_limit(world: World, uow: UnitOfWork) -> None:
    with uow.engine.begin() as conn:
        conn.execute(sa.text("UPDATE staff SET password_hash = :h"), {"h": password_hash()})
    outcomes = _parallel(3 * SIGN_IN_LOGIN_LIMIT.attempts, lambda: sign_in(uow, _device(world), "kim", WRONG))
    assert outcomes.count("refused") == SIGN_IN_LOGIN_LIMIT.attempts  # exactly as many answers as allowed
    assert outcomes.count("limited") == 2 * SIGN_IN_LOGIN_LIMIT.attempts


def _lookup(uow: UnitOfWork, world: World, uid: str) -> None:
    view_tab(uow, world.ctx(), medium_uid=uid, entry=MediumEntry.READER)


def test_parallel_unknown_lookups_cannot_pass_the_limit(world: World, uow: UnitOfWork) -> None:
    guesses = iter(range(10**6))
    outcomes = _parallel(LOOKUP_LIMIT.attempts + 20, lambda: _lookup(uow, world, f"GUESS-{next(guesses)}"))
    assert outcomes.count("refused") == LOOKUP_LIMIT.attempts
    assert outcomes.count("limited") == 20


@SQLITE_ONLY
def test_unknown_medium_lookups_over_http(api: Api, api_clock: FixedClock) -> None:
    api.issue("KNOWN1", "prepaid", 1000)
    for n in range(LOOKUP_LIMIT.attempts):
        assert_problem(api.get(f"/media/GUESS{n}/tab"), 404, "unknown-medium")
        if n % 20 == 0:  # successes in between cost nothing
            assert api.get("/media/KNOWN1/tab").status_code == 200
    for path in ("/media/GUESS-X/tab", "/media/KNOWN1/tab", "/card-numbers/KNOWN1"):
        limited = api.get(path)  # a known medium too: else the 429 would tell known from unknown numbers
        assert_problem(limited, 429, "rate-limited")
        assert int(limited.headers["Retry-After"]) > 0
    # The limit sits where media are looked up: a request that looks up none is not held up.
    assert api.get("/products").status_code == 200
    # Typed numbers, and writes naming an unknown medium in the body, are the same limit.
    typed = api.post("/media/KNOWN1/transfers", {"lost_medium_uid": "GUESS-Y"}, login="mo")
    assert_problem(typed, 429, "rate-limited")
    # The limit is the till's, not the venue's.
    other = api.client.get("/api/v1/media/KNOWN1/tab", headers=api.headers(till_token=api.till2_token, login=None))
    assert other.status_code != 429
    api_clock.advance(LOOKUP_LIMIT.window)
    assert api.get("/media/KNOWN1/tab").status_code == 200
    assert_problem(api.get("/media/GUESS-Z/tab"), 404, "unknown-medium")


@SQLITE_ONLY
def test_expired_counters_are_purged(world: World, uow: UnitOfWork) -> None:
    now = uow.clock.now()
    rows = [
        {"scope": "sign-in-login", "key": "old", "window_start": now - RETENTION - timedelta(seconds=1), "count": 3},
        {"scope": "sign-in-login", "key": "recent", "window_start": now - timedelta(minutes=1), "count": 3},
        {"scope": "medium-lookup", "key": "edge", "window_start": now - RETENTION, "count": 1},
    ]
    with uow.engine.begin() as conn:
        conn.execute(rate_limits.insert(), rows)
    assert purge_expired_counters(uow) == 1
    with uow.engine.connect() as conn:
        left = set(conn.execute(sa.select(rate_limits.c.key)).scalars())
    assert left == {"recent", "edge"}


def test_no_limit_outlives_the_purge() -> None:
    with pytest.raises(ValueError, match="at most"):
        Limit("too-long", attempts=1, window=RETENTION + timedelta(seconds=1))
    for limit in (SIGN_IN_LOGIN_LIMIT, SIGN_IN_DEVICE_LIMIT, LOOKUP_LIMIT):
        assert limit.window <= RETENTION


@SQLITE_ONLY
def test_tapzone_daily_purges_expired_counters(world: World, db_url: str) -> None:
    # The CLI runs on the real clock, so "expired" is relative to now.
    stale = datetime.now(UTC) - RETENTION - timedelta(hours=1)
    with world.uow.engine.begin() as conn:
        conn.execute(rate_limits.insert(), [{"scope": "medium-lookup", "key": "1", "window_start": stale, "count": 9}])
    result = CliRunner().invoke(cli_app, ["daily", "--venue", str(world.venue_id), "--database-url", db_url])
    assert result.exit_code == 0, result.output
    assert "expired rate-limit counters purged: 1" in result.output
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rate_limits)).scalar_one() == 0
