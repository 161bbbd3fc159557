"""The API fixtures of tests/api (a real app on the test database, tills with tokens, signed-in staff)."""

import pytest

from tests.api.conftest import api, api_clock

__all__ = ["SQLITE_ONLY", "api", "api_clock"]

# For checks that happen before any database work (the body limits, HTTP shapes): the PostgreSQL variant would
# only repeat them. Whatever PostgreSQL treats differently (text it cannot store, row locks) runs on both.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
