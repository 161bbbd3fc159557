"""DSFinV-K export of one business day: a ZIP of the 20 CSV files and index.xml, per till or for the whole venue.

Sources, all read in one transaction: the issued receipts (`receipts.body`, the receipt model as printed) give the
transactions, positions, VAT and payments; `tse_transactions` and `tse_signers` give the TSE data; `z_reports`
gives the closing number; `journal_entries` gives the business day and the operator. One till and day is one
closing (Kassenabschluss); a day without a Z report yet is exported as a provisional closing numbered after the
till's last Z report and dated at its last receipt.

Filled: the Einzelaufzeichnungsmodul core (transactions, transactions_vat, lines, lines_vat, datapayment,
transactions_tse), the master data tapzone holds (cashpointclosing, location, cashregister, vat, tse) and the
closing sums (businesscases, payment, cash_per_currency). Written with headers only, because tapzone has nothing
to put there: itemamounts, subitems, allocation_groups, references, slaves, pa. Left empty inside filled files:
article numbers, GTIN and product groups (the receipt model does not carry them), customer fields, the TSE
certificate (the simulator has none), STNR when the venue prints a VAT id, and INHAUS (not recorded; 0).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tapzone import __version__
from tapzone.errors import NotFound
from tapzone.fiscal import dsfinvk_layout as layout
from tapzone.fiscal.dsfinvk_closing import (
    COUNTRY,
    SOFTWARE,
    TAXONOMY_VERSION,
    Closing,
    Issued,
    Rows,
    add_closing_sums,
    add_master_data,
    add_transaction,
    local_time,
)
from tapzone.pos.receipts.model import Receipt, ReceiptKind
from tapzone.store.tables import devices, journal_entries, receipts, tse_transactions, venues, z_reports
from tapzone.store.uow import UnitOfWork


def export_day(
    source: sa.Connection | UnitOfWork,
    venue_id: int,
    business_day: date,
    device_id: int | None = None,
    *,
    on_closing: Callable[[str], None] | None = None,
) -> bytes:
    """The DSFinV-K ZIP of `business_day` for one till, or for every till of the venue that issued receipts."""
    if isinstance(source, UnitOfWork):
        with source.transaction() as tx:  # one snapshot for every file
            return export_day(tx.conn, venue_id, business_day, device_id, on_closing=on_closing)
    venue = source.execute(sa.select(venues).where(venues.c.id == venue_id)).first()
    if venue is None:
        raise NotFound(f"venue {venue_id} does not exist")
    zone = ZoneInfo(venue.timezone)
    closings = _load_closings(source, venue_id, business_day, device_id, zone)
    rows: Rows = {table.file: [] for table in layout.TABLES}
    for closing in closings:
        if on_closing is not None:
            on_closing(closing.device_name)
        _number_closing(source, closing, business_day, zone)
        for issued in closing.issued:
            add_transaction(rows, closing, issued, zone)
        add_master_data(source, rows, closing, venue, business_day)
        add_closing_sums(rows, closing, venue.currency)
    return _zip(rows, venue.name, business_day)


def _load_closings(
    conn: sa.Connection, venue_id: int, day: date, device_id: int | None, zone: ZoneInfo
) -> list[Closing]:
    if device_id is not None:
        found = conn.execute(sa.select(devices.c.id).where(devices.c.id == device_id, devices.c.venue_id == venue_id))
        if found.first() is None:
            raise NotFound(f"device {device_id} is not a till of venue {venue_id}")
    # Booked receipts belong to their entry's business day; a Z report to the day it closes; other unbooked
    # documents (a bill) to the local date they were printed on. A window of a day either side catches the
    # unbooked ones, the exact test follows in Python (a Z report printed two days late is missed).
    window_start = datetime.combine(day - timedelta(days=1), time(), tzinfo=UTC)
    window_end = datetime.combine(day + timedelta(days=2), time(), tzinfo=UTC)
    query = (
        sa.select(
            receipts.c.device_id,
            receipts.c.body,
            receipts.c.created_at,
            receipts.c.entry_id,
            devices.c.name.label("device_name"),
            journal_entries.c.business_day,
            journal_entries.c.operator_id,
            tse_transactions,
        )
        .select_from(
            receipts.join(devices, devices.c.id == receipts.c.device_id)
            .outerjoin(journal_entries, journal_entries.c.id == receipts.c.entry_id)
            .outerjoin(tse_transactions, tse_transactions.c.id == receipts.c.tse_transaction_id)
        )
        .where(
            receipts.c.venue_id == venue_id,
            sa.or_(
                journal_entries.c.business_day == day,
                sa.and_(
                    receipts.c.entry_id.is_(None),
                    receipts.c.created_at >= window_start,
                    receipts.c.created_at < window_end,
                ),
            ),
        )
        .order_by(receipts.c.device_id, receipts.c.number)
    )
    if device_id is not None:
        query = query.where(receipts.c.device_id == device_id)
    closings: dict[int, Closing] = {}
    for row in conn.execute(query):
        receipt = Receipt.model_validate_json(row.body)
        if row.entry_id is None and _unbooked_day(receipt, row.created_at, zone) != day:
            continue
        closing = closings.setdefault(row.device_id, Closing(row.device_id, row.device_name, []))
        tse = row if row.signer_id is not None else None
        closing.issued.append(Issued(receipt, row.operator_id, tse))
    return list(closings.values())


def _unbooked_day(receipt: Receipt, created_at: datetime, zone: ZoneInfo) -> date:
    if receipt.kind is ReceiptKind.Z_REPORT and receipt.z_totals is not None:
        return receipt.z_totals.business_day
    return created_at.astimezone(zone).date()


def _number_closing(conn: sa.Connection, closing: Closing, day: date, zone: ZoneInfo) -> None:
    """Z_KASSE_ID, Z_ERSTELLUNG and Z_NR: the till's Z report of the day, else a provisional closing."""
    report = conn.execute(
        sa.select(z_reports.c.number, z_reports.c.created_at).where(
            z_reports.c.device_id == closing.device_id, z_reports.c.business_day == day
        )
    ).first()
    if report is not None:
        number, created_at = report.number, report.created_at
    else:
        last = conn.execute(
            sa.select(sa.func.max(z_reports.c.number)).where(z_reports.c.device_id == closing.device_id)
        ).scalar_one()
        number, created_at = (last or 0) + 1, max(issued.receipt.issued_at for issued in closing.issued)
    till_serial = closing.issued[0].receipt.till_serial or f"device-{closing.device_id}"
    closing.key = {"Z_KASSE_ID": till_serial, "Z_ERSTELLUNG": local_time(created_at, zone), "Z_NR": str(number)}


def _zip(rows: Rows, venue_name: str, day: date) -> bytes:
    buffer = io.BytesIO()
    stamp = (day.year, day.month, day.day, 0, 0, 0)  # fixed entry dates: the same day exports to the same bytes
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        index = layout.index_xml(
            supplier=venue_name,
            location=COUNTRY,
            comment=f"DSFinV-K {TAXONOMY_VERSION} export of {day.isoformat()} from {SOFTWARE} {__version__}",
        )
        archive.writestr(zipfile.ZipInfo("index.xml", stamp), index, compress_type=zipfile.ZIP_DEFLATED)
        for table in layout.TABLES:
            content = layout.csv_bytes(table, rows[table.file])
            archive.writestr(zipfile.ZipInfo(table.file, stamp), content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
