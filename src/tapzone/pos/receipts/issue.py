"""Issuing receipts: built from what an operation booked, numbered per till, signed under the `de` profile,
stored as issued. Runs inside the operation's transaction, so a booking never lacks its receipt and a
receipt never exists for something not booked (seed 003: the receipt only after the payment)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.errors import NotFound
from tapzone.fiscal.kassenbeleg import process_data
from tapzone.fiscal.signer import PROCESS_TYPE_OTHER, PROCESS_TYPE_RECEIPT, fiscal_block
from tapzone.fiscal.tse_sim import TseSimulator
from tapzone.pos.receipts.model import Receipt, ReceiptKind, ReceiptLine, TenderLine, VatLine, VenueHeader
from tapzone.pos.tenders import TenderPlan
from tapzone.pos.vat import split_by_rate
from tapzone.store.counters import next_number
from tapzone.store.tables import devices, payments, receipts, staff, venues
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import FiscalProfile, Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

# 54-FZ tag 1214 "признак способа расчёта" per line: what kind of settlement the line is.
RU_FULL_PAYMENT = "full-payment"  # goods handed over and paid (incl. by offsetting an advance)
RU_ADVANCE = "advance"  # money received before it is known what it will buy (a top-up)


def till_serial(venue_id: int, device_id: int) -> str:
    """The till's serial number as receipts and the TSE name it (client id)."""
    return f"TZ-{venue_id}-{device_id}"


@dataclass(frozen=True, slots=True)
class Paid:
    """How the customer paid, as the receipt shows it."""

    tenders: list[TenderLine]
    change_minor: int = 0


def paid_by(plan: TenderPlan, tx: Tx | None = None, payment_id: int | None = None) -> Paid:
    """The receipt's tender lines from a tender plan; a card line carries its terminal slip number."""
    slip = None
    if tx is not None and payment_id is not None:
        slip = tx.conn.execute(sa.select(payments.c.slip_number).where(payments.c.id == payment_id)).scalar_one()
    lines: list[TenderLine] = []
    if plan.cash_minor or plan.change_minor:
        lines.append(TenderLine(kind="cash", amount_minor=plan.cash_minor + plan.change_minor))
    for provider, amount in sorted(plan.card_by_provider.items()):
        lines.append(TenderLine(kind="card", amount_minor=amount, provider=provider, slip_number=slip, cashless=True))
    if plan.prepaid_minor:
        lines.append(TenderLine(kind="prepaid", amount_minor=plan.prepaid_minor))
    return Paid(lines, plan.change_minor)


def lines_of(rows: list[Any]) -> list[ReceiptLine]:
    """Receipt lines from tab lines (or any rows with name, quantity, unit price, amount and VAT rate)."""
    return [
        ReceiptLine(
            name=row.name,
            quantity=row.quantity,
            unit_price_minor=row.unit_price_minor,
            amount_minor=row.amount_minor,
            vat_rate_bp=row.vat_rate_bp,
        )
        for row in rows
    ]


def value_line(name: str, amount_minor: int, *, advance: bool = True) -> ReceiptLine:
    """A line for prepaid value loaded or paid back (`advance`), or a refundable deposit: no supply, so no VAT
    of its own under `de`; under 54-FZ prepaid value is an advance taxed at the calculated rate."""
    return ReceiptLine(
        name=name,
        quantity=1,
        unit_price_minor=amount_minor,
        amount_minor=amount_minor,
        vat_rate_bp=0,
        settlement_method=RU_ADVANCE if advance else None,
    )


def vat_lines(lines: list[ReceiptLine]) -> list[VatLine]:
    return [
        VatLine(
            rate_bp=total.rate_bp, gross_minor=total.gross_minor, net_minor=total.net_minor, vat_minor=total.vat_minor
        )
        for total in split_by_rate((line.amount_minor, line.vat_rate_bp) for line in lines)
    ]


def _header(tx: Tx, ctx: RequestContext) -> tuple[VenueHeader, str, str | None]:
    row = tx.conn.execute(
        sa.select(
            venues.c.name,
            venues.c.address,
            venues.c.tax_id,
            devices.c.name.label("till"),
            staff.c.name.label("operator"),
        )
        .select_from(
            venues.join(devices, devices.c.id == ctx.device_id).outerjoin(staff, staff.c.id == ctx.operator_id)
        )
        .where(venues.c.id == ctx.venue_id)
    ).one()
    address = [part.strip() for part in row.address.split(",") if part.strip()]
    return VenueHeader(name=row.name, address=address, tax_id=row.tax_id), row.till, row.operator


def issue(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    kind: ReceiptKind,
    *,
    lines: list[ReceiptLine],
    paid: Paid | None = None,
    entry_id: int | None = None,
    medium_uid: str | None = None,
    balance_after_minor: int | None = None,
    reference: str | None = None,
    **extra: Any,
) -> int:
    """Number, sign (under `de`, every receipt of a payment) and store a receipt; returns its id."""
    header, till_name, operator = _header(tx, ctx)
    lines = [_ru_line(venue, line) if venue.fiscal_profile is FiscalProfile.RU else _plain(line) for line in lines]
    receipt = Receipt(
        kind=kind,
        number=next_number(tx, venue.id, ctx.device_id, "receipt"),
        venue=header,
        till_name=till_name,
        till_serial=till_serial(venue.id, ctx.device_id),
        issued_at=tx.now,
        language=venue.language,
        currency=venue.currency,
        operator=operator,
        medium_uid=medium_uid,
        lines=lines,
        vat=vat_lines(lines),
        tenders=paid.tenders if paid else [],
        total_minor=sum(line.amount_minor for line in lines),
        change_minor=paid.change_minor if paid else 0,
        balance_after_minor=balance_after_minor,
        unpaid=kind is ReceiptKind.BILL,
        fiscal_profile=venue.fiscal_profile.value,
        reference=reference,
        **extra,
    )
    tse_transaction_id = None
    if venue.fiscal_profile is FiscalProfile.DE:
        receipt, tse_transaction_id = _signed(tx, ctx, venue, receipt)
    receipt_id: int = tx.conn.execute(
        receipts.insert()
        .values(
            venue_id=venue.id,
            device_id=ctx.device_id,
            number=receipt.number,
            kind=kind.value,
            created_at=tx.now,
            entry_id=entry_id,
            body=receipt.model_dump_json(),
            tse_transaction_id=tse_transaction_id,
        )
        .returning(receipts.c.id)
    ).scalar_one()
    if ctx.payment_id is not None:
        tx.conn.execute(
            payments.update().where(payments.c.id == ctx.payment_id).values(receipt_id=receipt_id, entry_id=entry_id)
        )
    return receipt_id


def _signed(tx: Tx, ctx: RequestContext, venue: Venue, receipt: Receipt) -> tuple[Receipt, int]:
    """KassenSichV: the TSE signs the receipt's process data in the booking's transaction."""
    signer = TseSimulator(venue.id, ctx.device_id)
    # A bill ("Nota") and a Z report record no payment: they are signed as other processes.
    process_type = (
        PROCESS_TYPE_OTHER if receipt.kind in (ReceiptKind.BILL, ReceiptKind.Z_REPORT) else PROCESS_TYPE_RECEIPT
    )
    data = process_data(receipt) if process_type == PROCESS_TYPE_RECEIPT else receipt.kind.value
    handle = signer.start_transaction(tx, receipt.till_serial, process_type, "")
    signed = signer.finish_transaction(tx, handle, process_type, data)
    return receipt.model_copy(update={"fiscal": fiscal_block(signed)}), signed.transaction_id


def _plain(line: ReceiptLine) -> ReceiptLine:
    return line.model_copy(update={"settlement_method": None}) if line.settlement_method else line


def _ru_line(venue: Venue, line: ReceiptLine) -> ReceiptLine:
    """54-FZ tag 1214: prepaid value loaded or paid back is an advance, with VAT at the calculated rate
    (e.g. 20/120, the rate the ledger books on the advance); goods and services are a full payment, also
    when an advance pays for them."""
    if line.settlement_method == RU_ADVANCE:
        return line.model_copy(update={"vat_rate_bp": venue.advance_vat_rate_bp or 0})
    return line.model_copy(update={"settlement_method": RU_FULL_PAYMENT})


def load_receipt(uow: UnitOfWork, ctx: RequestContext, *, receipt_id: int) -> tuple[Receipt, str]:
    """A stored receipt exactly as issued, and the venue's time zone to print it in."""
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.TAB_BILL)
        row = tx.conn.execute(
            sa.select(receipts.c.body).where(receipts.c.id == receipt_id, receipts.c.venue_id == ctx.venue_id)
        ).first()
        if row is None:
            raise NotFound(f"receipt {receipt_id} does not exist")
        return Receipt.model_validate_json(row.body), venue.timezone
