"""Daily revenue of one business day, for the venue or one till: by VAT rate, product group and tender; top-ups
against unloads; deposits held.

Everything comes from the journal entries booked on that business day (their venue-wide postings are exactly
the `d<till>:<day>` buckets, DESIGN §4) and from the tab lines those entries settled. Revenue by product
group is itemised from the lines; revenue booked without lines (entry tickets, account types sold, fees,
usage) is listed by entry code, so groups and unitemised revenue add up to the goods revenue by rate.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.errors import NotFound
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import Purpose
from tapzone.reports.day_sums import DaySums, account_qualifier
from tapzone.reports.shapes import Bars, Cell, Table
from tapzone.store.tables import (
    devices,
    journal_entries,
    ledger_accounts,
    media,
    postings,
    tab_lines,
    tabs,
)
from tapzone.store.uow import Tx
from tapzone.venues.model import Venue

ChartBy = Literal["rate", "product-group"]


class RateRevenue(BaseModel):
    rate_bp: int
    net_minor: int
    vat_minor: int  # VAT payable at this rate as booked (under 54-FZ including VAT on advances)
    gross_minor: int


class GroupRevenue(BaseModel):
    product_group: str
    quantity: int
    gross_minor: int


class CodeRevenue(BaseModel):
    code: str
    gross_minor: int


class OtherRevenue(BaseModel):
    kind: str  # breakage, deposit-forfeit: income that is not a supply, without VAT
    amount_minor: int


class TenderTotal(BaseModel):
    tender: str  # cash, card:<terminal>, online:<provider>, prepaid, customer-account, bank
    received_minor: int
    paid_out_minor: int
    net_minor: int


class ValueFlow(BaseModel):
    """Prepaid value put on cards against value paid back (seed 004: a swap shows an equal unload and load)."""

    topup_minor: int
    load_minor: int
    loaded_minor: int
    refund_minor: int
    unload_minor: int
    payout_minor: int
    paid_back_minor: int
    net_minor: int  # loaded less paid back
    # Value that changed on cards by other entries: breakage, write-offs, corrections, transfers between
    # venues (+ added, − removed); a lost-card transfer between media of this venue nets to 0.
    other_minor: int
    # The day's change of the card float: net, less prepaid value used to pay, plus other.
    float_change_minor: int


class Deposits(BaseModel):
    taken_minor: int
    refunded_minor: int
    forfeited_minor: int
    other_released_minor: int
    held_end_of_day_minor: int  # the venue's deposits liability after this business day
    held_now_minor: int  # the liability now, from the ledger
    held_on_media_minor: int  # the deposits the media say they carry now
    agrees: bool  # ledger and media agree now


class DailyRevenue(BaseModel):
    venue_id: int
    currency: str
    business_day: date
    till_id: int | None
    by_rate: list[RateRevenue]
    net_minor: int
    vat_minor: int
    gross_minor: int
    advance_vat_minor: int  # 54-FZ: VAT on advances received less released; 0 under de/generic
    goods_gross_minor: int  # gross revenue from goods and services: gross less advance VAT
    by_product_group: list[GroupRevenue]
    unitemized: list[CodeRevenue]  # goods revenue booked by entries without product lines
    other_revenue: list[OtherRevenue]
    by_tender: list[TenderTotal]
    drawer_moves_minor: int  # cash in/out of drawers and shift differences, not paid by anyone
    value_flow: ValueFlow
    deposits: Deposits


def _entries_of_day(venue: Venue, day: date, till_id: int | None) -> list[sa.ColumnElement[bool]]:
    conditions = [journal_entries.c.venue_id == venue.id, journal_entries.c.business_day == day]
    if till_id is not None:
        conditions.append(journal_entries.c.device_id == till_id)
    return conditions


def _posting_sums(tx: Tx, venue: Venue, day: date, till_id: int | None) -> DaySums:
    debit = sa.case((postings.c.amount > 0, 1), else_=0)
    rows = tx.conn.execute(
        sa.select(
            ledger_accounts.c.purpose,
            ledger_accounts.c.key,
            ledger_accounts.c.unit,
            journal_entries.c.code,
            debit.label("debit"),
            sa.func.sum(postings.c.amount).label("total"),
        )
        .select_from(
            postings.join(journal_entries, journal_entries.c.id == postings.c.entry_id).join(
                ledger_accounts, ledger_accounts.c.id == postings.c.account_id
            )
        )
        .where(*_entries_of_day(venue, day, till_id), postings.c.unit == venue.currency)
        .group_by(
            ledger_accounts.c.purpose, ledger_accounts.c.key, ledger_accounts.c.unit, journal_entries.c.code, debit
        )
    ).all()
    sums = DaySums()
    for row in rows:
        sums.add(row.purpose, account_qualifier(row.key, row.purpose, row.unit), row.code, int(row.total))
    return sums


def _settled_lines(tx: Tx, venue: Venue, day: date, till_id: int | None) -> list[sa.Row[Any]]:
    """Lines settled by the day's entries: tabs paid at settlement and the closed tabs of immediate sales."""
    return list(
        tx.conn.execute(
            sa.select(
                journal_entries.c.code,
                tab_lines.c.product_group,
                sa.func.sum(tab_lines.c.quantity).label("quantity"),
                sa.func.sum(tab_lines.c.amount_minor).label("gross"),
            )
            .select_from(
                tab_lines.join(tabs, tabs.c.id == tab_lines.c.tab_id).join(
                    journal_entries, journal_entries.c.id == tabs.c.settlement_entry_id
                )
            )
            .where(*_entries_of_day(venue, day, till_id), tab_lines.c.state == "settled")
            .group_by(journal_entries.c.code, tab_lines.c.product_group)
        )
    )


def _deposits(tx: Tx, venue: Venue, day: date, sums: DaySums) -> Deposits:
    source = postings.join(ledger_accounts, ledger_accounts.c.id == postings.c.account_id).join(
        journal_entries, journal_entries.c.id == postings.c.entry_id
    )
    held = [ledger_accounts.c.purpose == Purpose.DEPOSITS_HELD.value, journal_entries.c.venue_id == venue.id]
    total = sa.func.coalesce(sa.func.sum(postings.c.amount), 0)
    end_of_day, now = tx.conn.execute(
        sa.select(
            sa.func.coalesce(
                sa.func.sum(sa.case((journal_entries.c.business_day <= day, postings.c.amount), else_=0)), 0
            ),
            total,
        )
        .select_from(source)
        .where(*held)
    ).one()
    on_media = tx.conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(media.c.deposit_minor), 0)).where(media.c.venue_id == venue.id)
    ).scalar_one()
    released = dict(sums.deposits_released)
    refunded = released.pop(EntryCode.DEPOSIT_REFUND.value, 0)
    forfeited = released.pop(EntryCode.DEPOSIT_FORFEIT.value, 0)
    return Deposits(
        taken_minor=sums.deposits_taken,
        refunded_minor=refunded,
        forfeited_minor=forfeited,
        other_released_minor=sum(released.values()),
        held_end_of_day_minor=-int(end_of_day),
        held_now_minor=-int(now),
        held_on_media_minor=int(on_media),
        agrees=-int(now) == int(on_media),
    )


def _require_till(tx: Tx, venue: Venue, till_id: int) -> None:
    found = tx.conn.execute(
        sa.select(devices.c.id).where(devices.c.id == till_id, devices.c.venue_id == venue.id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"device {till_id} is not a till of this venue")


def read_daily_revenue(tx: Tx, venue: Venue, day: date | None = None, till_id: int | None = None) -> DailyRevenue:
    day = day or venue.business_day(tx.now)
    if till_id is not None:
        _require_till(tx, venue, till_id)
    sums = _posting_sums(tx, venue, day, till_id)
    by_rate = [
        RateRevenue(
            rate_bp=rate,
            net_minor=sums.net.get(rate, 0),
            vat_minor=sums.vat.get(rate, 0),
            gross_minor=sums.net.get(rate, 0) + sums.vat.get(rate, 0),
        )
        for rate in sorted(sums.net.keys() | sums.vat.keys())
    ]
    groups: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    itemized_by_code: dict[str, int] = defaultdict(int)
    for row in _settled_lines(tx, venue, day, till_id):
        groups[row.product_group][0] += int(row.quantity)
        groups[row.product_group][1] += int(row.gross)
        itemized_by_code[row.code] += int(row.gross)
    unitemized = {
        code: gross - itemized_by_code.get(code, 0)
        for code, gross in sums.goods_by_code.items()
        if gross != itemized_by_code.get(code, 0)
    }
    unitemized.update({code: -gross for code, gross in itemized_by_code.items() if code not in sums.goods_by_code})
    loaded, paid_back = sums.loaded, sums.paid_back
    prepaid_used = sums.received.get("prepaid", 0) - sums.paid_out.get("prepaid", 0)
    flow = ValueFlow(
        topup_minor=loaded.get(EntryCode.TOPUP.value, 0),
        load_minor=loaded.get(EntryCode.LOAD.value, 0),
        loaded_minor=sum(loaded.values()),
        refund_minor=paid_back.get(EntryCode.REFUND.value, 0),
        unload_minor=paid_back.get(EntryCode.UNLOAD.value, 0),
        payout_minor=paid_back.get(EntryCode.PAYOUT.value, 0),
        paid_back_minor=sum(paid_back.values()),
        net_minor=sum(loaded.values()) - sum(paid_back.values()),
        other_minor=sums.card_other,
        float_change_minor=sum(loaded.values()) - sum(paid_back.values()) - prepaid_used + sums.card_other,
    )
    tenders = sorted(sums.received.keys() | sums.paid_out.keys(), key=_tender_order)
    gross = sum(rate.gross_minor for rate in by_rate)
    return DailyRevenue(
        venue_id=venue.id,
        currency=venue.currency,
        business_day=day,
        till_id=till_id,
        by_rate=by_rate,
        net_minor=sum(rate.net_minor for rate in by_rate),
        vat_minor=sum(rate.vat_minor for rate in by_rate),
        gross_minor=gross,
        advance_vat_minor=sums.advance,
        goods_gross_minor=gross - sums.advance,
        by_product_group=[
            GroupRevenue(product_group=name, quantity=quantity, gross_minor=amount)
            for name, (quantity, amount) in sorted(groups.items(), key=lambda item: (-item[1][1], item[0]))
        ],
        unitemized=[CodeRevenue(code=code, gross_minor=amount) for code, amount in sorted(unitemized.items())],
        other_revenue=[OtherRevenue(kind=kind, amount_minor=amount) for kind, amount in sorted(sums.other.items())],
        by_tender=[
            TenderTotal(
                tender=name,
                received_minor=sums.received.get(name, 0),
                paid_out_minor=sums.paid_out.get(name, 0),
                net_minor=sums.received.get(name, 0) - sums.paid_out.get(name, 0),
            )
            for name in tenders
        ],
        drawer_moves_minor=sums.drawer,
        value_flow=flow,
        deposits=_deposits(tx, venue, day, sums),
    )


def _tender_order(name: str) -> tuple[int, str]:
    order = {"cash": 0, "prepaid": 2, "customer-account": 3, "bank": 4}
    return order.get(name, 1), name


def rate_label(rate_bp: int) -> str:
    """1900 → "19 %", 550 → "5.5 %"."""
    whole, hundredths = divmod(rate_bp, 100)
    return f"{whole}.{hundredths:02d}".rstrip("0").rstrip(".") + " %"


def tables(report: DailyRevenue) -> list[Table]:
    flow, deposits = report.value_flow, report.deposits
    summary: list[tuple[str, int]] = [
        ("net", report.net_minor),
        ("vat", report.vat_minor),
        ("gross", report.gross_minor),
        ("advance_vat", report.advance_vat_minor),
        ("goods_gross", report.goods_gross_minor),
        ("drawer_moves", report.drawer_moves_minor),
        ("topup", flow.topup_minor),
        ("load", flow.load_minor),
        ("loaded", flow.loaded_minor),
        ("refund", flow.refund_minor),
        ("unload", flow.unload_minor),
        ("payout", flow.payout_minor),
        ("paid_back", flow.paid_back_minor),
        ("value_net", flow.net_minor),
        ("value_other", flow.other_minor),
        ("float_change", flow.float_change_minor),
        ("deposits_taken", deposits.taken_minor),
        ("deposits_refunded", deposits.refunded_minor),
        ("deposits_forfeited", deposits.forfeited_minor),
        ("deposits_other_released", deposits.other_released_minor),
        ("deposits_held_end_of_day", deposits.held_end_of_day_minor),
        ("deposits_held_now", deposits.held_now_minor),
        ("deposits_on_media_now", deposits.held_on_media_minor),
    ]
    by_rate: list[list[Cell]] = [[r.rate_bp, r.net_minor, r.vat_minor, r.gross_minor] for r in report.by_rate]
    return [
        Table("by_rate", ["rate_bp", "net_minor", "vat_minor", "gross_minor"], by_rate),
        Table(
            "by_product_group",
            ["product_group", "quantity", "gross_minor"],
            [[g.product_group, g.quantity, g.gross_minor] for g in report.by_product_group],
        ),
        Table("unitemized", ["code", "gross_minor"], [[c.code, c.gross_minor] for c in report.unitemized]),
        Table("other_revenue", ["kind", "amount_minor"], [[o.kind, o.amount_minor] for o in report.other_revenue]),
        Table(
            "by_tender",
            ["tender", "received_minor", "paid_out_minor", "net_minor"],
            [[t.tender, t.received_minor, t.paid_out_minor, t.net_minor] for t in report.by_tender],
        ),
        Table("summary", ["figure", "amount_minor"], [[name, amount] for name, amount in summary]),
    ]


def bars(report: DailyRevenue, language: str, by: ChartBy = "rate") -> Bars:
    scope = f"till {report.till_id}" if report.till_id is not None else "all tills"
    if by == "rate":
        return Bars(
            title=f"Revenue by VAT rate (gross), {report.business_day.isoformat()}, {scope}",
            currency=report.currency,
            language=language,
            items=[(rate_label(r.rate_bp), r.gross_minor) for r in report.by_rate],
        )
    return Bars(
        title=f"Revenue by product group (gross), {report.business_day.isoformat()}, {scope}",
        currency=report.currency,
        language=language,
        items=[(g.product_group, g.gross_minor) for g in report.by_product_group]
        + [(f"({c.code}, no product lines)", c.gross_minor) for c in report.unitemized],
    )
