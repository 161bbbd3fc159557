"""Payouts of leftover card value on SQLite and PostgreSQL: bank requests, revocation, SEPA export, the bank's
confirmation and cash at the till, with the ledger checked after each."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
import sqlalchemy as sa

from tapzone.access.visits import issue_medium, return_medium
from tapzone.errors import (
    Conflict,
    InsufficientBalance,
    InvalidBic,
    InvalidIban,
    NothingToExport,
    NothingToSettle,
    PayoutNotRevocable,
    PermissionDenied,
)
from tapzone.ledger.check import all_findings
from tapzone.payouts.batches import batch_document, export_payouts, export_payouts_unattended, mark_batch_paid
from tapzone.payouts.model import PayoutState
from tapzone.payouts.requests import list_payouts, pay_out_cash, request_bank_payout, revoke_payout
from tapzone.payouts.sepa import NAMESPACE
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.receipts.issue import load_receipt
from tapzone.pos.tabs import save_items
from tapzone.store.tables import account_balances, audit_log, card_balances, journal_entries, ledger_accounts, payouts
from tests.sepa_schema import pain001_errors
from tests.world import World

NS = {"p": NAMESPACE}
VENUE_ACCOUNT = {"debtor_name": "Aquapark Test GmbH", "debtor_iban": "DE02120300000000202051"}


def issue(world: World, uid: str, load_minor: int) -> None:
    issue_medium(
        world.uow, world.ctx(), medium_uid=uid, credit_type=CreditType.PREPAID, initial_load=world.eur(load_minor)
    )


def ask_bank(world: World, uid: str, amount_minor: int | None = None, **details: str) -> int:
    view = request_bank_payout(
        world.uow,
        world.manager(),
        medium_uid=uid,
        account_holder=details.get("holder", "Jürgen Groß"),
        iban=details.get("iban", "DE89 3704 0044 0532 0130 00"),
        amount=world.eur(amount_minor) if amount_minor is not None else None,
    )
    return view.payout_id


def card_float(world: World) -> int:
    with world.uow.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.coalesce(sa.func.sum(card_balances.c.balance), 0))).scalar_one())


def ledger_balance(world: World, key: str) -> int:
    with world.uow.engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(account_balances.c.balance), 0))
            .select_from(account_balances.join(ledger_accounts, ledger_accounts.c.id == account_balances.c.account_id))
            .where(ledger_accounts.c.key == key)
        ).scalar_one()
    return int(total)


def audit_actions(world: World) -> list[str]:
    with world.uow.engine.connect() as conn:
        return list(conn.execute(sa.select(audit_log.c.action).order_by(audit_log.c.id)).scalars())


def test_a_bank_payout_takes_the_value_off_the_card_and_owes_it(world: World) -> None:
    issue(world, "B1", 5000)
    issue(world, "B2", 2000)
    before = card_float(world)

    view = request_bank_payout(
        world.uow,
        world.manager(),
        medium_uid="B1",
        account_holder="  Jürgen  Groß ",
        iban="de89 3704 0044 0532 0130 00",
        amount=world.eur(1234),
    )

    assert (view.method, view.state, view.amount_minor, view.balance_minor) == ("bank", "requested", 1234, 3766)
    assert (view.account_holder, view.iban, view.bic) == ("Jürgen Groß", "DE89370400440532013000", "COBADEFFXXX")
    assert card_float(world) == before - 1234
    assert ledger_balance(world, f"payouts-due:po{view.payout_id}:EUR") == -1234  # owed to this visitor
    with world.uow.engine.connect() as conn:
        code = conn.execute(sa.select(journal_entries.c.code).where(journal_entries.c.id == view.entry_id)).scalar_one()
    assert code == "payout"
    assert "payout.request" in audit_actions(world)

    rest = request_bank_payout(
        world.uow, world.manager(), medium_uid="B1", account_holder="Ann Ek", iban="SE4550000000058398257466"
    )
    assert (rest.amount_minor, rest.balance_minor) == (3766, 0)  # no amount: everything that is left
    assert card_float(world) == before - 5000
    world.assert_ledger_clean()


def test_value_reserved_by_the_tab_is_not_paid_out(world: World) -> None:
    issue(world, "H1", 1000)
    save_items(world.uow, world.ctx(), medium_uid="H1", items=[Item(world.beer_id)])  # holds 450

    with pytest.raises(InsufficientBalance):
        ask_bank(world, "H1", 1000)
    assert ask_bank(world, "H1") > 0
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(payouts.c.amount_minor)).scalar_one() == 550
    with pytest.raises(NothingToSettle):
        ask_bank(world, "H1")
    world.assert_ledger_clean()


@pytest.mark.parametrize(
    ("details", "error"),
    [
        ({"iban": "DE89370400440532013001"}, InvalidIban),  # one digit off: the check digits catch it
        ({"iban": "BR1800360305000010009795493C1"}, InvalidIban),  # not a SEPA country
        ({"bic": "COBADEF"}, InvalidBic),
    ],
)
def test_bad_bank_details_change_nothing(world: World, details: dict[str, str], error: type[Exception]) -> None:
    issue(world, "X1", 3000)
    counts, before = world.counts(), card_float(world)

    with pytest.raises(error):
        request_bank_payout(
            world.uow,
            world.manager(),
            medium_uid="X1",
            account_holder="Ann Ek",
            iban=details.get("iban", "DE89370400440532013000"),
            bic=details.get("bic"),
        )

    assert world.counts() == counts
    assert card_float(world) == before
    with world.uow.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(payouts)).scalar_one() == 0


def test_a_cashier_may_not_order_bank_transfers(world: World) -> None:
    issue(world, "C1", 3000)
    with pytest.raises(PermissionDenied):
        request_bank_payout(
            world.uow, world.ctx(), medium_uid="C1", account_holder="Ann Ek", iban="DE89370400440532013000"
        )
    with pytest.raises(PermissionDenied):
        export_payouts(world.uow, world.ctx(), **VENUE_ACCOUNT)


def test_revoking_before_export_puts_the_value_back(world: World) -> None:
    issue(world, "R1", 4000)
    payout_id = ask_bank(world, "R1", 1500)

    revoked = revoke_payout(world.uow, world.manager(), payout_id=payout_id, reason="visitor gave the wrong account")

    assert (revoked.state, revoked.balance_minor) == ("revoked", 4000)
    assert revoked.revoke_entry_id is not None and revoked.resolved_at is not None
    assert ledger_balance(world, f"payouts-due:po{payout_id}:EUR") == 0
    with world.uow.engine.connect() as conn:
        corrects = conn.execute(
            sa.select(journal_entries.c.corrects_entry_id).where(journal_entries.c.id == revoked.revoke_entry_id)
        ).scalar_one()
    assert corrects == revoked.entry_id
    assert audit_actions(world)[-1] == "payout.revoke"
    with pytest.raises(PayoutNotRevocable):
        revoke_payout(world.uow, world.manager(), payout_id=payout_id, reason="again")
    with pytest.raises(NothingToExport):  # a revoked payout is never exported
        export_payouts(world.uow, world.manager(), **VENUE_ACCOUNT)
    world.assert_ledger_clean()


def test_a_payout_of_a_returned_medium_cannot_be_revoked_onto_its_closed_account(world: World) -> None:
    issue(world, "R2", 4000)
    payout_id = ask_bank(world, "R2")
    return_medium(world.uow, world.ctx(), medium_uid="R2")  # nothing left on the card, so it may go back

    with pytest.raises(PayoutNotRevocable):
        revoke_payout(world.uow, world.manager(), payout_id=payout_id, reason="too late")
    assert export_payouts(world.uow, world.manager(), **VENUE_ACCOUNT).payout_ids == [payout_id]
    world.assert_ledger_clean()


def test_export_writes_one_valid_sepa_file_and_locks_the_payouts(world: World) -> None:
    amounts = {"E1": 1, "E2": 1999, "E3": 7005}
    ids = []
    for uid, amount in amounts.items():
        issue(world, uid, 8000)
        ids.append(ask_bank(world, uid, amount, holder=f"Holder {uid}"))
    revoked = ask_bank(world, "E3", 5)
    revoke_payout(world.uow, world.manager(), payout_id=revoked, reason="asked twice")

    batch = export_payouts(world.uow, world.manager(), **VENUE_ACCOUNT, debtor_bic="BYLADEM1001")

    assert (batch.count, batch.total_minor, batch.currency, batch.payout_ids) == (3, 9005, "EUR", ids)
    message_id, document = batch_document(world.uow, world.manager(), batch_id=batch.batch_id)
    assert message_id == batch.message_id and len(message_id) <= 35
    assert pain001_errors(document) == []
    root = ET.fromstring(document)
    assert root.findtext(".//p:GrpHdr/p:MsgId", namespaces=NS) == batch.message_id
    assert root.findtext(".//p:GrpHdr/p:NbOfTxs", namespaces=NS) == "3"
    assert Decimal(root.findtext(".//p:GrpHdr/p:CtrlSum", namespaces=NS) or "") == Decimal("90.05")
    assert root.findtext(".//p:PmtInf/p:CtrlSum", namespaces=NS) == "90.05"
    assert root.findtext(".//p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "DE02120300000000202051"
    assert root.findtext(".//p:DbtrAgt/p:FinInstnId/p:BICFI", namespaces=NS) == "BYLADEM1001"
    transfers = root.findall(".//p:CdtTrfTxInf", NS)
    assert [t.findtext("p:PmtId/p:EndToEndId", namespaces=NS) for t in transfers] == [f"TZ-PAYOUT-{i}" for i in ids]
    assert [t.findtext("p:Amt/p:InstdAmt", namespaces=NS) for t in transfers] == ["0.01", "19.99", "70.05"]
    assert {t.find("p:Amt/p:InstdAmt", NS).get("Ccy") for t in transfers} == {"EUR"}  # type: ignore[union-attr]
    assert "Auszahlung Restguthaben Aquapark Test" in document  # the venue's language, on the statement

    listed = list_payouts(world.uow, world.manager(), state=PayoutState.EXPORTED)
    assert sorted(p.payout_id for p in listed.payouts) == ids
    assert all(p.batch_id == batch.batch_id for p in listed.payouts)
    with pytest.raises(PayoutNotRevocable):
        revoke_payout(world.uow, world.manager(), payout_id=ids[0], reason="too late")
    with pytest.raises(NothingToExport):
        export_payouts(world.uow, world.manager(), **VENUE_ACCOUNT)
    for payout_id in ids:  # exported is not paid: still owed until the bank confirms
        assert ledger_balance(world, f"payouts-due:po{payout_id}:EUR") < 0
    assert audit_actions(world).count("payout.export") == 1
    world.assert_ledger_clean()


def test_the_banks_confirmation_pays_the_debt_from_the_bank_account(world: World) -> None:
    ids = []
    for uid in ("P1", "P2", "P3"):
        issue(world, uid, 3000)
        ids.append(ask_bank(world, uid, 1000))
    batch = export_payouts(world.uow, world.manager(), **VENUE_ACCOUNT)

    partly = mark_batch_paid(world.uow, world.manager(), batch_id=batch.batch_id, payout_ids=ids[:2])
    assert partly.paid_payout_ids == ids[:2]
    assert ledger_balance(world, "bank:EUR") == -2000
    assert ledger_balance(world, f"payouts-due:po{ids[2]}:EUR") == -1000  # rejected by the bank: still owed
    world.assert_ledger_clean()

    rest = mark_batch_paid(world.uow, world.manager(), batch_id=batch.batch_id)
    assert rest.paid_payout_ids == ids
    assert ledger_balance(world, "bank:EUR") == -3000
    assert all(ledger_balance(world, f"payouts-due:po{i}:EUR") == 0 for i in ids)
    with pytest.raises(Conflict):
        mark_batch_paid(world.uow, world.manager(), batch_id=batch.batch_id)
    with pytest.raises(PayoutNotRevocable):
        revoke_payout(world.uow, world.manager(), payout_id=ids[0], reason="paid already")
    world.assert_ledger_clean()


def test_cash_payout_at_the_till_books_and_prints_a_refund_receipt(world: World) -> None:
    issue(world, "K1", 2500)
    counts = world.counts()

    view = pay_out_cash(world.uow, world.ctx(), medium_uid="K1", amount=world.eur(1000))

    assert (view.method, view.state, view.amount_minor, view.balance_minor) == ("cash", "paid", 1000, 1500)
    assert view.resolved_at is not None and view.receipt_id is not None
    assert world.counts()[0] == counts[0] + 1
    assert ledger_balance(world, "cash:EUR") == 2500 - 1000
    receipt, _ = load_receipt(world.uow, world.ctx(), receipt_id=view.receipt_id)
    assert receipt.kind == "refund" and receipt.total_minor == 1000 and receipt.balance_after_minor == 1500
    assert [tender.kind for tender in receipt.tenders] == ["cash"]
    assert receipt.fiscal is not None  # signed by the TSE under the de profile

    rest = pay_out_cash(world.uow, world.ctx(), medium_uid="K1")
    assert (rest.amount_minor, rest.balance_minor) == (1500, 0)
    with pytest.raises(PayoutNotRevocable):
        revoke_payout(world.uow, world.manager(), payout_id=rest.payout_id, reason="handed over")
    return_medium(world.uow, world.ctx(), medium_uid="K1")  # nothing left: the wristband may go back
    assert audit_actions(world).count("payout.cash") == 2
    world.assert_ledger_clean()


def test_a_repeated_request_with_its_key_books_once(world: World) -> None:
    issue(world, "I1", 3000)
    ctx = world.manager("payout-key-1")
    first = request_bank_payout(
        world.uow, ctx, medium_uid="I1", account_holder="Ann Ek", iban="DE89370400440532013000", amount=world.eur(700)
    )
    counts = world.counts()
    again = request_bank_payout(
        world.uow,
        ctx,
        medium_uid="I1",
        account_holder="Ann Ek",
        iban="DE89 3704 0044 0532 0130 00",
        amount=world.eur(700),
    )
    assert again == first  # the same IBAN written with spaces is the same request
    assert world.counts() == counts


def test_the_command_line_export_books_on_the_system_device(world: World) -> None:
    issue(world, "L1", 3000)
    payout_id = ask_bank(world, "L1", 3000)

    batch = export_payouts_unattended(world.uow, world.venue_id, **VENUE_ACCOUNT)

    assert batch.payout_ids == [payout_id]
    with pytest.raises(NothingToExport):
        export_payouts_unattended(world.uow, world.venue_id, **VENUE_ACCOUNT)
    world.assert_ledger_clean()


def test_check_names_a_payout_whose_state_and_ledger_disagree(world: World) -> None:
    issue(world, "D1", 3000)
    payout_id = ask_bank(world, "D1", 1200)
    with world.uow.engine.begin() as conn:  # a payout marked paid behind the ledger's back
        conn.execute(payouts.update().where(payouts.c.id == payout_id).values(state="paid"))

    with world.uow.engine.connect() as conn:
        messages = [str(finding) for finding in all_findings(conn)]

    expected = f"payout {payout_id} is owed 0 by its state but its payouts-due account holds 1200"
    assert messages == [f"[bank payouts owed match the ledger] {expected}"]
