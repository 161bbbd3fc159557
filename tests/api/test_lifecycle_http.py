"""seed 004 and seed 001's exceptions over HTTP: lost-card transfer, swap, QR media, and clearing what visitors
left behind."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from tapzone.errors import TapzoneError
from tapzone.media.transfer import transfer_lost_medium
from tapzone.store.tables import card_accounts, card_balances, journal_entries, media, role_permissions, roles
from tapzone.venues.setup import create_product
from tests.api.conftest import Api, assert_problem
from tests.world import World


def money_on_medium(world: World, uid: str) -> int:
    """The card float of one medium: the money on its open card accounts."""
    with world.uow.engine.connect() as conn:
        value = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(card_balances.c.balance), 0))
            .select_from(
                card_balances.join(card_accounts, card_accounts.c.id == card_balances.c.card_account_id).join(
                    media, media.c.id == card_accounts.c.medium_id
                )
            )
            .where(media.c.uid == uid, card_balances.c.unit == "EUR")
        ).scalar_one()
    return int(value)


def save_beer(api: Api, uid: str) -> None:
    response = api.post(f"/media/{uid}/tab/lines", {"items": [{"product_id": api.world.beer_id}]})
    assert response.status_code == 201, response.text


def test_lost_card_transfer_moves_value_and_tab_once(api: Api) -> None:
    api.issue("LOST-1", "prepaid", 5000)
    save_beer(api, "LOST-1")
    assert api.post("/media/LOST-1/lost", {"reason": "visitor lost it in the pool"}, login="mo").status_code == 200

    cashier = api.post("/media/NEW-1/transfers", {"lost_medium_uid": "LOST-1"})
    assert_problem(cashier, 403, "permission-denied")
    moved = api.post("/media/NEW-1/transfers", {"lost_medium_uid": "LOST-1"}, login="mo")
    assert moved.status_code == 201, moved.text
    body = moved.json()
    assert body["from_state"] == "transferred" and len(body["entry_ids"]) == 1
    assert body["accounts"][0]["balances"] == {"EUR": 5000} and body["accounts"][0]["open_tab_id"] is not None

    tab = api.get("/media/NEW-1/tab").json()
    assert (tab["balance_minor"], tab["open_total_minor"], tab["available_minor"]) == (5000, 450, 4550)
    assert money_on_medium(api.world, "LOST-1") == 0  # counts 0 in the card float (seed 004)
    assert money_on_medium(api.world, "NEW-1") == 5000

    assert_problem(api.get("/media/LOST-1/tab"), 409, "medium-lost")
    again = api.post("/media/NEW-2/transfers", {"lost_medium_uid": "LOST-1"}, login="mo")
    assert_problem(again, 409, "conflict")  # no double load
    assert_problem(api.post("/media/LOST-1/unblock", {"reason": "found it"}, login="mo"), 422, "invalid-request")
    api.world.assert_ledger_clean()


def test_a_transfer_needs_the_manual_entry_permission_in_the_use_case(api: Api) -> None:
    """The lost number is always typed, so the API refuses a role that may transfer but not type numbers."""
    api.issue("LOST-M", "prepaid", 700)
    with api.world.uow.engine.begin() as conn:
        manager_role = conn.execute(sa.select(roles.c.id).where(roles.c.name == "manager")).scalar_one()
        conn.execute(
            role_permissions.delete().where(
                role_permissions.c.role_id == manager_role, role_permissions.c.permission == "medium.manual_entry"
            )
        )
    refused = api.post("/media/NEW-M/transfers", {"lost_medium_uid": "LOST-M"}, login="mo")
    assert_problem(refused, 403, "permission-denied")
    assert money_on_medium(api.world, "LOST-M") == 700
    assert api.get("/media/NEW-M/tab").status_code == 404


def test_qr_media_are_regenerated_not_transferred(api: Api) -> None:
    batch = api.post("/qr-media", {"count": 2})
    assert batch.status_code == 201, batch.text
    first, second = batch.json()["media"]
    assert first["qr_payload"].startswith("TZQ-") and first["medium_uid"].startswith("Q")

    issued = api.post("/visits", {"medium_uid": first["qr_payload"], "credit_type": "prepaid", "medium_kind": "qr"})
    assert issued.status_code == 201, issued.text
    assert issued.json()["medium_uid"] == first["medium_uid"]  # the scanned code finds the printed number
    assert api.get(f"/media/{first['qr_payload']}/tab").status_code == 200

    png = api.client.get(f"/api/v1/media/{first['medium_uid']}/qr-code.png", headers=api.headers())
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    svg = api.client.get(f"/api/v1/media/{first['medium_uid']}/qr-code.svg", headers=api.headers())
    assert svg.status_code == 200 and b"<svg" in svg.content
    sheet = api.client.get(
        f"/api/v1/qr-sheets.pdf?uids={first['medium_uid']},{second['medium_uid']}", headers=api.headers()
    )
    assert sheet.status_code == 200 and sheet.content.startswith(b"%PDF")

    transfer = api.post("/media/NEW-Q/transfers", {"lost_medium_uid": first["medium_uid"]}, login="mo")
    assert_problem(transfer, 422, "invalid-request")
    renewed = api.post(
        f"/media/{first['medium_uid']}/qr-code/regeneration", {"reason": "photo of it shared"}, login="mo"
    )
    assert renewed.status_code == 201, renewed.text
    assert renewed.json()["generation"] == 2
    assert_problem(api.get(f"/media/{first['qr_payload']}/tab"), 404, "unknown-medium")  # the old print
    assert api.get(f"/media/{renewed.json()['qr_payload']}/tab").status_code == 200
    typed = api.client.get(f"/api/v1/media/{first['medium_uid']}/tab?entry=typed", headers=api.headers())
    assert_problem(typed, 403, "permission-denied")  # a number typed by hand needs medium.manual_entry


def test_swap_shows_an_equal_unload_and_load(api: Api) -> None:
    api.issue("OLD-1", "prepaid", 3000)
    swapped = api.post("/media/OLD-1/swap", {"new_medium_uid": "NEW-S"})
    assert swapped.status_code == 201, swapped.text
    with api.world.uow.engine.connect() as conn:
        codes = (
            conn.execute(sa.select(journal_entries.c.code).where(journal_entries.c.id.in_(swapped.json()["entry_ids"])))
            .scalars()
            .all()
        )
        states = dict(conn.execute(sa.select(media.c.uid, media.c.state)).all())
    assert sorted(codes) == ["load", "unload"]
    assert (states["OLD-1"], states["NEW-S"]) == ("returned", "active")
    assert money_on_medium(api.world, "NEW-S") == 3000 and money_on_medium(api.world, "OLD-1") == 0
    api.world.assert_ledger_clean()


def test_media_are_never_deleted(api: Api) -> None:
    api.issue("KEEP-1")
    refused = api.client.delete("/api/v1/media/KEEP-1", headers=api.headers("mo"))
    assert_problem(refused, 409, "media-never-deleted")


def test_write_off_a_tab_left_unpaid(api: Api) -> None:
    api.issue("GONE-1", "credit", 5000)
    save_beer(api, "GONE-1")
    tab_id = api.get("/media/GONE-1/tab").json()["tab_id"]
    assert_problem(api.post(f"/tabs/{tab_id}/write-off", {"reason": "left without paying"}), 403, "permission-denied")
    written = api.post(f"/tabs/{tab_id}/write-off", {"reason": "left without paying"}, login="mo")
    assert written.status_code == 201, written.text
    assert written.json()["written_off_minor"] == 450
    assert api.get("/media/GONE-1/tab").json()["open_total_minor"] == 0
    api.world.assert_ledger_clean()


@pytest.mark.parametrize("mode", ["breakage", "product"])
def test_leftover_prepaid_value_is_emptied(api: Api, mode: str) -> None:
    world = api.world
    product = create_product(
        world.uow, world.venue_id, name="Unused advances", price_minor=1, vat_rate_bp=0, product_group="advances"
    )
    api.issue("LEFT-1", "prepaid", 1234)
    body: dict[str, Any] = {"mode": mode, "reason": "visitor never came back"}
    if mode == "product":
        body["product_id"] = product
    emptied = api.post("/media/LEFT-1/prepaid-emptying", body, login="mo")
    assert emptied.status_code == 201, emptied.text
    assert emptied.json()["amount_minor"] == 1234
    assert money_on_medium(world, "LEFT-1") == 0
    world.assert_ledger_clean()


@pytest.mark.slow
def test_two_tills_racing_to_transfer_one_lost_card_load_it_once(world: World) -> None:
    from tapzone.access.visits import issue_medium
    from tapzone.plans.card_accounts import CreditType

    issue_medium(
        world.uow, world.ctx(), medium_uid="RACE-L", credit_type=CreditType.PREPAID, initial_load=world.eur(900)
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(new_uid: str, till: int) -> None:
        barrier.wait()
        try:
            transfer_lost_medium(
                world.uow,
                world.manager() if till == world.till_id else world.ctx(operator=world.manager_id, till=till),
                lost_uid="RACE-L",
                new_uid=new_uid,
            )
            outcomes.append("moved")
        except TapzoneError as error:
            outcomes.append(error.type)

    threads = [
        threading.Thread(target=attempt, args=("RACE-A", world.till_id)),
        threading.Thread(target=attempt, args=("RACE-B", world.till2_id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "moved"]
    assert money_on_medium(world, "RACE-A") + money_on_medium(world, "RACE-B") == 900
    world.assert_ledger_clean()


def test_the_lost_medium_is_refused_at_a_gate_after_the_transfer(api: Api) -> None:
    from tapzone.access.gates import tap
    from tapzone.access.model import Direction
    from tapzone.access.setup import add_gate, create_zone
    from tapzone.context import RequestContext
    from tapzone.venues.model import DeviceKind

    world = api.world
    zone = create_zone(world.uow, world.venue_id, name="Pools")
    gate = add_gate(
        world.uow, world.venue_id, name="Exit", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=Direction.OUT
    )
    api.issue("GATE-L", "prepaid", 800)
    assert api.post("/media/GATE-N/transfers", {"lost_medium_uid": "GATE-L"}, login="mo").status_code == 201
    decision = tap(world.uow, RequestContext(world.venue_id, gate, None, "t1"), tap_id="t1", medium_uid="GATE-L")
    assert (decision.allowed, decision.reason) == (False, "medium-lost")
