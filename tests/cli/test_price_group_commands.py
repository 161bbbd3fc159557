"""`tapzone venue add-price-group` and `set-group-price`: the till then charges the group's price."""

from __future__ import annotations

from typer.testing import CliRunner

from tapzone.access.visits import issue_medium
from tapzone.cli import app
from tapzone.customers.profile import update_customer
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tapzone.venues.setup import create_customer
from tests.world import World

runner = CliRunner()


def venue(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["venue", *args, "--database-url", db_url])
    return result.exit_code, result.output


def test_price_group_commands(world: World, db_url: str) -> None:
    vid, beer = str(world.venue_id), str(world.beer_id)
    code, output = venue(db_url, "add-price-group", vid, "staff")
    assert (code, output.strip()) == (0, "price group 1 created")
    assert venue(db_url, "add-price-group", vid, "staff")[0] == 2  # the name is taken
    assert venue(db_url, "set-group-price", vid, "--group", "1", "--product", beer, "--price-minor", "300")[0] == 0
    assert venue(db_url, "set-group-price", vid, "--group", "1", "--product", beer, "--price-minor", "0")[0] == 2
    assert venue(db_url, "set-group-price", vid, "--group", "9", "--product", beer, "--price-minor", "1")[0] == 2
    assert venue(db_url, "set-group-price", vid, "--group", "1", "--product", beer)[0] == 2  # neither price nor clear

    sam = create_customer(world.uow, world.venue_id, name="Sam")
    update_customer(world.uow, world.ctx(), customer_id=sam, price_group_id=1)
    issue_medium(
        world.uow,
        world.ctx(),
        medium_uid="CLI1",
        credit_type=CreditType.PREPAID,
        initial_load=world.eur(2000),
        customer_id=sam,
    )
    assert save_items(world.uow, world.ctx(), medium_uid="CLI1", items=[Item(world.beer_id)]).open_total_minor == 300
    assert venue(db_url, "set-group-price", vid, "--group", "1", "--product", beer, "--clear")[0] == 0
    tab = save_items(world.uow, world.ctx(), medium_uid="CLI1", items=[Item(world.beer_id)])
    assert [line.unit_price_minor for line in tab.lines] == [300, 450]
