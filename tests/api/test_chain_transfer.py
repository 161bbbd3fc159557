"""seed 002 networked studios over HTTP: a customer takes a card account with its type number and balances
to another studio of the chain; a bonus card never becomes a subscription there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tapzone.ledger.check import all_findings
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, cash, chain_clearing
from tapzone.ledger.posting import post_entry
from tapzone.plans.chain import set_venue_chain
from tapzone.store.tables import (
    account_balances,
    audit_log,
    card_accounts,
    card_balances,
    contracts,
    journal_entries,
    ledger_accounts,
    media,
    staff,
    visits,
)
from tapzone.venues.credentials import issue_device_token
from tapzone.venues.model import FiscalProfile
from tapzone.venues.repo import load_venue
from tapzone.venues.setup import add_device, add_staff, create_customer, create_product, create_venue
from tests.api.conftest import PASSWORD, Api, assert_problem, password_hash
from tests.world import World

CHAIN = "sun-chain"


@dataclass
class Chain:
    """Studio A is the api fixture's venue (staff kim, mo, and al, an admin); studio B is a second venue in
    the same database with its own till and staff (bo manager, bea admin, cy cashier)."""

    api: Api
    a: int
    b: int
    b_token: str
    b_sessions: dict[str, str]
    b_product: int

    def b_headers(self, login: str, key: str | None) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.b_token}",
            "Content-Type": "application/json",
            "X-Staff-Session": self.b_sessions[login],
            "Idempotency-Key": key or uuid.uuid4().hex,
        }

    def post_b(self, path: str, body: Any, login: str = "bo", key: str | None = None) -> httpx.Response:
        return self.api.client.post(f"/api/v1{path}", json=body, headers=self.b_headers(login, key))

    def created(self, response: httpx.Response) -> dict[str, Any]:
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def configure(self, venue: int, path: str, body: Any) -> int:
        response = self.api.post(path, body, login="al") if venue == self.a else self.post_b(path, body, "bea")
        return int(self.created(response)["id"])

    def bonus_card(self, venue: int, number: int) -> int:
        """The seed's happy-hour card: per-minute tariff, free top-up with 20 % bonus."""
        tariff = self.configure(venue, "/tariffs", {"name": "per minute", "kind": "per-minute", "price_minor": 50})
        rule = self.configure(venue, "/topup-rules", {"name": "bonus", "kind": "free", "bonus_percent_bp": 2000})
        return self.configure(
            venue,
            "/account-types",
            {"number": number, "name": "Happy Hour", "tariff_id": tariff, "topup_rule_id": rule},
        )

    def subscription(self, venue: int, number: int, *, contract_required: bool = False) -> int:
        tariff = self.configure(venue, "/tariffs", {"name": "abo", "kind": "subscription", "max_minutes": 15})
        month = self.configure(
            venue, "/topup-rules", {"name": "month", "kind": "stepped", "steps": [{"price_minor": 4900, "months": 1}]}
        )
        spec = {"number": number, "name": "Abo", "tariff_id": tariff, "usage_free": True, "topup_rule_id": month}
        return self.configure(venue, "/account-types", {**spec, "contract_required": contract_required})

    def visit_card(self, venue: int, number: int, steps: list[dict[str, int]]) -> int:
        tariff = self.configure(venue, "/tariffs", {"name": "per use", "kind": "per-use", "price_minor": 900})
        rule = self.configure(venue, "/topup-rules", {"name": "visits", "kind": "stepped", "steps": steps})
        spec = {"number": number, "name": "Visit card", "tariff_id": tariff, "topup_rule_id": rule}
        return self.configure(venue, "/account-types", spec)

    def sell_a(self, uid: str, type_id: int, price_minor: int) -> dict[str, Any]:
        body = {"account_type_id": type_id, "price_minor": price_minor}
        return self.created(self.api.post(f"/media/{uid}/account-sales", body))

    def transfer(self, uid: str, key: str | None = None, login: str = "bo", **extra: Any) -> httpx.Response:
        return self.post_b("/account-transfers", {"source_venue_id": self.a, "medium_uid": uid, **extra}, login, key)

    def card_balance(self, card_account_id: int) -> dict[str, int]:
        with self.api.world.uow.engine.connect() as conn:
            rows = conn.execute(
                sa.select(card_balances.c.unit, card_balances.c.balance).where(
                    card_balances.c.card_account_id == card_account_id
                )
            )
            return {row.unit: int(row.balance) for row in rows}

    def clearing(self, venue: int, partner: int) -> int:
        key = chain_clearing("EUR", partner).key
        with self.api.world.uow.engine.connect() as conn:
            total = conn.execute(
                sa.select(sa.func.coalesce(sa.func.sum(account_balances.c.balance), 0))
                .select_from(
                    account_balances.join(ledger_accounts, ledger_accounts.c.id == account_balances.c.account_id)
                )
                .where(ledger_accounts.c.venue_id == venue, ledger_accounts.c.key == key)
            ).scalar_one()
        return int(total)

    def account_row(self, card_account_id: int) -> sa.Row[Any]:
        with self.api.world.uow.engine.connect() as conn:
            return conn.execute(sa.select(card_accounts).where(card_accounts.c.id == card_account_id)).one()


@pytest.fixture
def chain(api: Api) -> Chain:
    uow = api.world.uow
    add_staff(uow, api.world.venue_id, name="Al Admin", login="al", role="admin")
    b = create_venue(
        uow, name="Sonnenstudio Nord", currency="EUR", timezone="Europe/Berlin", fiscal_profile=FiscalProfile.DE
    )
    till = add_device(uow, b, name="Counter")
    for login, role in (("bo", "manager"), ("bea", "admin"), ("cy", "cashier")):
        add_staff(uow, b, name=login.title(), login=login, role=role)
    with uow.engine.begin() as conn:
        conn.execute(staff.update().where(staff.c.password_hash.is_(None)).values(password_hash=password_hash()))
    token = issue_device_token(uow, till)
    sessions = {}
    for login in ("bo", "bea", "cy"):
        response = api.client.post(
            "/api/v1/sessions",
            json={"login": login, "password": PASSWORD},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 201, response.text
        sessions[login] = response.json()["session_token"]
    set_venue_chain(uow, api.world.venue_id, CHAIN)
    set_venue_chain(uow, b, f" {CHAIN} ")  # the name is trimmed
    product = create_product(uow, b, name="Lotion", price_minor=450, vat_rate_bp=1900, product_group="shop")
    return Chain(api, api.world.venue_id, b, token, sessions, product)


def audit_rows(chain: Chain) -> list[tuple[int, str, str]]:
    with chain.api.world.uow.engine.connect() as conn:
        rows = conn.execute(
            sa.select(audit_log.c.venue_id, audit_log.c.action, audit_log.c.subject)
            .where(audit_log.c.action == "account.transfer")
            .order_by(audit_log.c.id)
        )
        return [tuple(row) for row in rows]


def test_bonus_card_moves_with_its_number_and_balance(chain: Chain) -> None:
    world = chain.api.world
    sold = chain.sell_a("SUN-7", chain.bonus_card(chain.a, 1), 5000)
    source_id = sold["account"]["card_account_id"]
    b_type = chain.bonus_card(chain.b, 1)

    key = uuid.uuid4().hex
    moved = chain.created(chain.transfer("sun-7", key))  # the reader's number, normalised like everywhere
    account = moved["account"]
    target_id = account["card_account_id"]
    assert (account["medium_uid"], account["account_type_id"], account["account_type_number"]) == ("SUN-7", b_type, 1)
    assert account["balances"] == {"money_minor": 5000, "bonus": 1000, "minutes": 0, "visits": 0, "valid_until": None}
    assert account["is_active"] and account["credit_type"] == "prepaid"
    assert (moved["merged"], moved["source_venue_id"], moved["source_card_account_id"]) == (False, chain.a, source_id)

    # The float left A and arrived in B; each venue's clearing account says who owes whom.
    assert chain.card_balance(source_id) == {"EUR": 0, "bonus": 0}
    assert chain.card_balance(target_id) == {"EUR": 5000, "bonus": 1000}
    assert (chain.clearing(chain.a, chain.b), chain.clearing(chain.b, chain.a)) == (-5000, 5000)
    with world.uow.engine.connect() as conn:
        entries = {
            row.id: row
            for row in conn.execute(
                sa.select(journal_entries).where(
                    journal_entries.c.id.in_([moved["source_entry_id"], moved["destination_entry_id"]])
                )
            )
        }
        medium_venues = set(conn.execute(sa.select(media.c.venue_id).where(media.c.uid == "SUN-7")).scalars())
    out, into = entries[moved["source_entry_id"]], entries[moved["destination_entry_id"]]
    assert (out.venue_id, out.code, into.venue_id, into.code) == (chain.a, "transfer", chain.b, "transfer")
    assert f"card account {target_id}" in out.memo and f"entry {out.id}" in into.memo
    assert medium_venues == {chain.a, chain.b}  # the same card number, registered in both venues
    source = chain.account_row(source_id)
    assert (source.closed_reason, source.is_active, source.closed_at is not None) == ("transferred", False, True)
    assert audit_rows(chain) == [
        (chain.a, "account.transfer", f"card_account:{source_id}"),
        (chain.b, "account.transfer", f"card_account:{target_id}"),
    ]

    # A replay of the request answers the same and books nothing.
    before = world.counts()
    replay = chain.transfer("sun-7", key)
    assert replay.status_code == 201 and replay.json() == moved
    assert world.counts() == before

    # The account moved once: a second transfer finds it closed, and the card has nothing active left in A.
    assert_problem(chain.transfer("SUN-7", source_card_account_id=source_id), 409, "conflict")
    assert_problem(chain.transfer("SUN-7"), 422, "invalid-request")
    # A no longer lets the card pay; B does, from the balance that moved.
    beer = {"items": [{"product_id": world.beer_id, "quantity": 1}]}
    assert_problem(chain.api.post("/media/SUN-7/sales", beer), 422, "invalid-request")
    assert_problem(chain.api.post("/media/SUN-7/sales", {**beer, "card_account_id": source_id}), 404, "not-found")
    lotion = chain.created(
        chain.post_b("/media/SUN-7/sales", {"items": [{"product_id": chain.b_product, "quantity": 1}]})
    )
    assert lotion["balance_minor"] == 4550
    world.assert_ledger_clean()


def test_bonus_card_never_becomes_a_subscription(chain: Chain) -> None:
    world = chain.api.world
    sold = chain.sell_a("SUN-9", chain.bonus_card(chain.a, 1), 2000)
    chain.subscription(chain.b, 1)
    before = world.counts()

    refused = assert_problem(chain.transfer("SUN-9"), 409, "account-type-mismatch")
    assert "subscription" in refused["detail"]
    assert world.counts() == before
    source = chain.account_row(sold["account"]["card_account_id"])
    assert (source.closed_at, source.is_active) == (None, True)
    with world.uow.engine.connect() as conn:
        in_b = conn.execute(sa.select(media.c.id).where(media.c.venue_id == chain.b)).all()
    assert in_b == []  # nothing was bound in B either

    # A type number B does not have at all is refused by name.
    chain.sell_a("SUN-10", chain.visit_card(chain.a, 3, [{"price_minor": 8000, "visits": 10}]), 8000)
    before = world.counts()
    assert "number 3" in assert_problem(chain.transfer("SUN-10"), 404, "not-found")["detail"]
    assert world.counts() == before
    world.assert_ledger_clean()


def test_only_within_the_chain_and_with_the_permission(chain: Chain) -> None:
    chain.sell_a("SUN-11", chain.bonus_card(chain.a, 1), 2000)
    chain.bonus_card(chain.b, 1)
    uow = chain.api.world.uow

    set_venue_chain(uow, chain.b, "another-chain")
    assert_problem(chain.transfer("SUN-11"), 404, "not-found")
    set_venue_chain(uow, chain.b, None)
    assert_problem(chain.transfer("SUN-11"), 404, "not-found")
    set_venue_chain(uow, chain.b, CHAIN)
    missing = chain.post_b("/account-transfers", {"source_venue_id": 9999, "medium_uid": "SUN-11"})
    assert_problem(missing, 404, "not-found")  # the same answer as a venue of another chain
    itself = chain.post_b("/account-transfers", {"source_venue_id": chain.b, "medium_uid": "SUN-11"})
    assert_problem(itself, 422, "invalid-request")
    assert_problem(chain.transfer("SUN-11", login="cy"), 403, "permission-denied")  # cashiers do not transfer
    assert_problem(chain.transfer("NOPE-1"), 404, "unknown-medium")
    assert_problem(chain.transfer("SUN-11", balance="all"), 422, "invalid-request")  # an unknown field

    assert chain.created(chain.transfer("SUN-11"))["account"]["balances"]["money_minor"] == 2000
    chain.api.world.assert_ledger_clean()


def test_open_tab_must_be_paid_in_the_source_venue_first(chain: Chain) -> None:
    world = chain.api.world
    chain.sell_a("SUN-12", chain.bonus_card(chain.a, 1), 2000)
    chain.bonus_card(chain.b, 1)
    saved = chain.api.post("/media/SUN-12/tab/lines", {"items": [{"product_id": world.beer_id, "quantity": 1}]})
    assert saved.status_code == 201, saved.text
    before = world.counts()
    assert_problem(chain.transfer("SUN-12"), 409, "unpaid-goods")
    assert world.counts() == before


def test_visit_card_adds_to_the_card_account_it_already_holds_here(chain: Chain) -> None:
    steps = [{"price_minor": 8000, "visits": 10, "days": 90}, {"price_minor": 4500, "visits": 5, "days": 30}]
    a_sold = chain.sell_a("SUN-13", chain.visit_card(chain.a, 3, steps), 8000)
    b_type = chain.visit_card(chain.b, 3, steps)
    b_sold = chain.created(
        chain.post_b("/media/SUN-13/account-sales", {"account_type_id": b_type, "price_minor": 4500})
    )

    moved = chain.created(chain.transfer("SUN-13"))
    assert moved["merged"] and moved["account"]["card_account_id"] == b_sold["account"]["card_account_id"]
    balances = moved["account"]["balances"]
    assert balances["visits"] == 15
    # The later validity wins: A's 90 days outlast B's 30.
    assert (
        balances["valid_until"]
        == a_sold["account"]["balances"]["valid_until"]
        != b_sold["account"]["balances"]["valid_until"]
    )
    assert chain.card_balance(a_sold["account"]["card_account_id"]) == {"EUR": 0, "visits": 0}
    # Counted units move between the venues' issued-units accounts; no money changes hands.
    assert (chain.clearing(chain.a, chain.b), chain.clearing(chain.b, chain.a)) == (0, 0)
    chain.api.world.assert_ledger_clean()


def test_subscription_takes_its_validity_and_a_contract_with_this_venue(chain: Chain) -> None:
    world = chain.api.world
    sold = chain.sell_a("ABO-3", chain.subscription(chain.a, 2), 4900)
    valid_until = sold["account"]["balances"]["valid_until"]
    assert valid_until is not None
    chain.subscription(chain.b, 2, contract_required=True)
    customer = create_customer(world.uow, chain.b, name="Sunny Customer")
    contract = {
        "account_holder": "Sunny Customer",
        "iban": "DE89 3704 0044 0532 0130 00",
        "mandate_reference": "NORD-0001",
        "mandate_signed_on": "2026-07-04",
        "address": "Sonnenweg 1, 10115 Berlin",
    }
    before = world.counts()
    assert_problem(chain.transfer("ABO-3", customer_id=customer), 422, "contract-required")
    assert_problem(chain.transfer("ABO-3", contract=contract), 422, "contract-required")  # whose contract?
    assert_problem(chain.transfer("ABO-3", customer_id=customer + 99, contract=contract), 404, "not-found")
    assert world.counts() == before

    moved = chain.created(chain.transfer("ABO-3", customer_id=customer, contract=contract))
    # Nothing but the validity to move: no balance, so no entry in either venue.
    assert (moved["source_entry_id"], moved["destination_entry_id"]) == (None, None)
    assert world.counts() == before
    assert moved["account"]["balances"]["valid_until"] == valid_until
    with world.uow.engine.connect() as conn:
        stored = conn.execute(sa.select(contracts.c.venue_id, contracts.c.customer_id, contracts.c.iban)).all()
        visit_customer = conn.execute(
            sa.select(visits.c.customer_id).where(visits.c.id == moved["account"]["visit_id"])
        ).scalar_one()
    assert [tuple(row) for row in stored] == [(chain.b, customer, "DE89370400440532013000")]
    assert visit_customer == customer
    assert audit_rows(chain)[-2:] == [
        (chain.a, "account.transfer", f"card_account:{sold['account']['card_account_id']}"),
        (chain.b, "account.transfer", f"card_account:{moved['account']['card_account_id']}"),
    ]
    world.assert_ledger_clean()


def test_check_finds_a_transfer_booked_in_one_venue_only(world: World) -> None:
    """Each half of a transfer balances on its own, so only the chain check can see a missing half."""
    with world.uow.transaction() as tx:
        venue = load_venue(tx, world.venue_id)
        draft = EntryDraft(EntryCode.TRANSFER, memo="half a transfer")
        draft.debit(chain_clearing("EUR", 9999), 700).credit(cash("EUR"), 700)
        post_entry(tx, world.ctx(), venue, draft)
    with world.uow.engine.connect() as conn:
        findings = [str(finding) for finding in all_findings(conn)]
    assert len(findings) == 1, findings
    assert findings[0].endswith(
        f"chain clearing between venues {world.venue_id} and 9999 does not net out in EUR: off by 700"
    )
