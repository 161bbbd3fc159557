"""Issuing receipts the way the till will: build the receipt model, sign it, store it with its TSE transaction.

The use cases that issue receipts are written elsewhere; these tests only need rows shaped like theirs.
"""

from __future__ import annotations

import uuid
from datetime import date

from tapzone.fiscal.kassenbeleg import process_data
from tapzone.fiscal.signer import PROCESS_TYPE_OTHER, PROCESS_TYPE_RECEIPT, fiscal_block
from tapzone.fiscal.tse_sim import TseSimulator
from tapzone.pos.receipts.model import Receipt, ReceiptKind, ReceiptLine, TenderLine, VatLine, VenueHeader, ZTotals
from tapzone.pos.vat import split_by_rate
from tapzone.store.tables import journal_entries, receipts
from tests.world import World

VENUE_HEADER = VenueHeader(name="Aquapark Test", address=["Badstraße 1", "10115 Berlin"], tax_id="DE123456789")


def line(name: str, quantity: int, unit_price_minor: int, vat_rate_bp: int) -> ReceiptLine:
    return ReceiptLine(
        name=name,
        quantity=quantity,
        unit_price_minor=unit_price_minor,
        amount_minor=quantity * unit_price_minor,
        vat_rate_bp=vat_rate_bp,
    )


def issue(
    world: World,
    *,
    number: int,
    kind: ReceiptKind,
    lines: list[ReceiptLine],
    tenders: list[TenderLine],
    change_minor: int = 0,
    till: int | None = None,
    business_day: date | None = None,
    signed: bool = True,
    z_totals: ZTotals | None = None,
) -> Receipt:
    """Store receipt `number` of a till, booked on `business_day` (None: an unbooked document like a bill)."""
    device_id = till or world.till_id
    with world.uow.transaction() as tx:
        taxed = kind not in (ReceiptKind.TOPUP, ReceiptKind.REFUND)
        receipt = Receipt(
            kind=kind,
            number=number,
            venue=VENUE_HEADER,
            till_name=f"Till {device_id}",
            till_serial=f"TZ-{world.venue_id}-{device_id}",
            issued_at=tx.now,
            language="de",
            currency="EUR",
            operator="Kim Cashier",
            lines=lines,
            vat=[
                VatLine(rate_bp=t.rate_bp, gross_minor=t.gross_minor, net_minor=t.net_minor, vat_minor=t.vat_minor)
                for t in split_by_rate((item.amount_minor, item.vat_rate_bp) for item in lines)
            ]
            if taxed
            else [],
            tenders=tenders,
            total_minor=sum(item.amount_minor for item in lines),
            change_minor=change_minor,
            unpaid=kind is ReceiptKind.BILL,
            fiscal_profile="de",
            z_totals=z_totals,
        )
        transaction_id = None
        if signed:
            # As the till signs: a bill and a Z report record no payment and are signed as other processes.
            other = kind in (ReceiptKind.BILL, ReceiptKind.Z_REPORT)
            process_type = PROCESS_TYPE_OTHER if other else PROCESS_TYPE_RECEIPT
            signer = TseSimulator(world.venue_id)
            handle = signer.start_transaction(tx, receipt.till_serial, process_type, "")
            done = signer.finish_transaction(tx, handle, process_type, kind.value if other else process_data(receipt))
            receipt = receipt.model_copy(update={"fiscal": fiscal_block(done)})
            transaction_id = done.transaction_id
        entry_id = None
        if business_day is not None:
            entry_id = tx.conn.execute(
                journal_entries.insert()
                .values(
                    venue_id=world.venue_id,
                    code="sale",
                    device_id=device_id,
                    operator_id=world.cashier_id,
                    idempotency_key=uuid.uuid4().hex,
                    created_at=tx.now,
                    effective_at=tx.now,
                    business_day=business_day,
                )
                .returning(journal_entries.c.id)
            ).scalar_one()
        tx.conn.execute(
            receipts.insert().values(
                venue_id=world.venue_id,
                device_id=device_id,
                number=number,
                kind=kind.value,
                created_at=tx.now,
                entry_id=entry_id,
                body=receipt.model_dump_json(),
                tse_transaction_id=transaction_id,
            )
        )
    return receipt
