"""One visit under both fiscal profiles: the same bookings, receipts shaped by the profile.

de: prepaid value is a multi-purpose voucher (no VAT when loaded, VAT on the goods), every receipt of a
payment signed by the TSE with a QR code. ru (54-FZ): the top-up is an advance receipt with VAT at the
calculated rate, consumption a full settlement offsetting it, the refund of the unused advance a return.
"""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.access.visits import issue_medium
from tapzone.fiscal.signer import SignedTransaction
from tapzone.fiscal.tse_sim import verify
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.catalogue import Item
from tapzone.pos.receipts.model import Receipt
from tapzone.pos.sales import sell_from_balance
from tapzone.pos.settlement import refund_prepaid
from tapzone.store.tables import receipts, tse_signers
from tapzone.store.uow import UnitOfWork
from tapzone.venues.model import FiscalProfile
from tests.world import World, build_world


def visit(world: World) -> list[Receipt]:
    issue_medium(world.uow, world.ctx(), medium_uid="V1", credit_type=CreditType.PREPAID, initial_load=world.eur(3000))
    sell_from_balance(world.uow, world.ctx(), medium_uid="V1", items=[Item(world.towel_id), Item(world.fries_id)])
    refund_prepaid(world.uow, world.ctx(operator=world.manager_id), medium_uid="V1")
    with world.uow.engine.connect() as conn:
        bodies = conn.execute(sa.select(receipts.c.body).order_by(receipts.c.id)).scalars().all()
    return [Receipt.model_validate_json(body) for body in bodies]


def test_de_receipts_are_signed_vouchers(world: World) -> None:
    topup, purchase, refund = visit(world)
    assert [r.kind for r in (topup, purchase, refund)] == ["topup", "purchase", "refund"]
    assert [r.number for r in (topup, purchase, refund)] == [1, 2, 3]
    assert [(v.rate_bp, v.vat_minor) for v in topup.vat] == [(0, 0)]  # a voucher: no VAT when loaded
    assert [(v.rate_bp, v.gross_minor, v.vat_minor) for v in purchase.vat] == [(700, 320, 21), (1900, 1200, 192)]
    assert purchase.tenders[0].kind == "prepaid" and purchase.balance_after_minor == 1480
    counters = [r.fiscal.signature_counter for r in (topup, purchase, refund) if r.fiscal]
    assert len(counters) == 3 and counters == sorted(counters)
    assert all(line.settlement_method is None for r in (topup, purchase, refund) for line in r.lines)
    fiscal = purchase.fiscal
    assert fiscal is not None and fiscal.qr_payload.startswith(f"V0;{purchase.till_serial};Kassenbeleg-V1;")
    with world.uow.engine.connect() as conn:
        public_key = conn.execute(sa.select(tse_signers.c.public_key)).scalar_one()  # till 1's own TSE
    signed = SignedTransaction(
        transaction_id=0,
        tse_serial=fiscal.tse_serial,
        signature_algorithm=fiscal.signature_algorithm,
        time_format=fiscal.time_format,
        public_key=fiscal.public_key,
        client_id=fiscal.client_id,
        transaction_number=fiscal.transaction_number,
        signature_counter=fiscal.signature_counter,
        start=fiscal.start,
        end=fiscal.end,
        process_type=fiscal.process_type,
        process_data=fiscal.process_data,
        signature=fiscal.signature,
    )
    assert verify(signed, public_key)
    world.assert_ledger_clean()


def test_ru_receipts_are_advance_settlement_and_return(uow: UnitOfWork) -> None:
    world = build_world(uow, FiscalProfile.RU)
    topup, purchase, refund = visit(world)
    assert [line.settlement_method for line in topup.lines] == ["advance"]
    assert [(v.rate_bp, v.gross_minor, v.vat_minor) for v in topup.vat] == [(2000, 3000, 500)]  # 20/120
    assert [line.settlement_method for line in purchase.lines] == ["full-payment", "full-payment"]
    assert [line.settlement_method for line in refund.lines] == ["advance"]
    assert purchase.tenders[0].kind == "prepaid"  # the advance offset against the goods
    assert all(r.fiscal is None for r in (topup, purchase, refund))  # no TSE outside Germany
    assert refund.tenders[0].amount_minor == 3000 - 1520
    world.assert_ledger_clean()


def test_each_till_signs_with_its_own_tse(world: World) -> None:
    """One signer row per till: tills never queue behind one another's signing (DESIGN §4)."""
    issue_medium(world.uow, world.ctx(), medium_uid="T1", credit_type=CreditType.PREPAID, initial_load=world.eur(500))
    issue_medium(
        world.uow,
        world.ctx(till=world.till2_id),
        medium_uid="T2",
        credit_type=CreditType.PREPAID,
        initial_load=world.eur(500),
    )
    with world.uow.engine.connect() as conn:
        bodies = conn.execute(sa.select(receipts.c.body).order_by(receipts.c.id)).scalars().all()
        signers = conn.execute(sa.select(tse_signers.c.device_id).order_by(tse_signers.c.device_id)).scalars().all()
    first, second = (Receipt.model_validate_json(body) for body in bodies)
    assert first.fiscal is not None and second.fiscal is not None
    assert first.fiscal.tse_serial != second.fiscal.tse_serial
    assert first.fiscal.client_id != second.fiscal.client_id
    assert signers == [world.till_id, world.till2_id]
