"""`tapzone venue set-chain`: venues with the same chain name take over each other's card accounts."""

from __future__ import annotations

import sqlalchemy as sa
from typer.testing import CliRunner

from tapzone.cli import app
from tapzone.store.tables import venues
from tests.world import World

runner = CliRunner()


def venue(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["venue", *args, "--database-url", db_url])
    return result.exit_code, result.output


def chain_of(world: World) -> str | None:
    with world.uow.engine.connect() as conn:
        found: str | None = conn.execute(sa.select(venues.c.chain).where(venues.c.id == world.venue_id)).scalar_one()
    return found


def test_set_and_clear_the_chain(world: World, db_url: str) -> None:
    vid = str(world.venue_id)
    assert venue(db_url, "set-chain", vid, "sun-chain") == (0, f"venue {vid} is in chain sun-chain\n")
    assert chain_of(world) == "sun-chain"
    assert venue(db_url, "set-chain", vid)[0] == 2  # neither a name nor --clear
    assert venue(db_url, "set-chain", vid, "x", "--clear")[0] == 2  # both
    assert venue(db_url, "set-chain", vid, "x" * 65)[0] == 2
    assert venue(db_url, "set-chain", "999", "sun-chain")[0] == 2  # no such venue
    assert chain_of(world) == "sun-chain"
    assert venue(db_url, "set-chain", vid, "--clear") == (0, f"venue {vid} is in no chain\n")
    assert chain_of(world) is None
