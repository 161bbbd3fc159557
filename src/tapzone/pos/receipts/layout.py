"""A receipt as an ordered list of neutral blocks: what is printed, in which order, already translated.

The ESC/POS, HTML and PDF renderers only draw these blocks and never look at the `Receipt` themselves, so
the three renderings carry the same content by construction; `block_texts` lists every text a rendering
must show, which is what the tests compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from tapzone.i18n import DEFAULT_LANGUAGE, LANGUAGES, format_moment, format_money
from tapzone.ledger.codes import EntryCode
from tapzone.pos.receipts.model import FiscalBlock, Receipt, ReceiptKind, TenderLine, VatLine, ZTotals
from tapzone.pos.receipts.texts import (
    ENTRY_CODES,
    SETTLEMENT_METHODS,
    TENDER_KINDS,
    TITLES,
    Label,
    translate,
)


class Style(StrEnum):
    NORMAL = "normal"
    STRONG = "strong"
    TITLE = "title"
    ALERT = "alert"  # white on black across the width: nobody takes a bill for a receipt of payment
    SMALL = "small"  # fine print: the signature data


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"


@dataclass(frozen=True, slots=True)
class Line:
    """A paragraph; renderers wrap it at spaces (and inside words longer than a line, e.g. a signature)."""

    text: str
    style: Style = Style.NORMAL
    align: Align = Align.LEFT


@dataclass(frozen=True, slots=True)
class Pair:
    """A label on the left and its value on the right; the value goes below when both do not fit."""

    label: str
    value: str
    style: Style = Style.NORMAL


@dataclass(frozen=True, slots=True)
class Item:
    """A sold line: name and amount, then its details (quantity × unit price, VAT rate, settlement method)."""

    name: str
    amount: str
    details: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Table:
    """A small table; the first column is a label, the others are amounts (the VAT breakdown)."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Rule:
    """A separator between sections."""


@dataclass(frozen=True, slots=True)
class Qr:
    """A QR code; the payload is stored as given (the TSE's DSFinV-K string) and encoded by segno."""

    payload: str


Block = Line | Pair | Item | Table | Rule | Qr


def layout(receipt: Receipt, timezone: str) -> list[Block]:
    """The blocks of `receipt` in its language, times shown in the venue's `timezone` (an IANA name)."""
    fmt = _Formatter(receipt, timezone)
    blocks: list[Block] = []
    if receipt.unpaid:
        blocks.append(Line(fmt.t(Label.NOT_PAID), Style.ALERT, Align.CENTER))
    blocks += _venue(receipt, fmt)
    blocks.append(Rule())
    blocks.append(Line(fmt.t(TITLES[receipt.kind]), Style.TITLE, Align.CENTER))
    blocks += _meta(receipt, fmt)
    if receipt.kind is ReceiptKind.Z_REPORT:
        if receipt.z_totals is not None:
            blocks += _z_report(receipt.z_totals, fmt)
    else:
        blocks += _sale(receipt, fmt)
    if receipt.unpaid:
        blocks.append(Rule())
        blocks.append(Line(fmt.t(Label.BILL_NOTE), Style.STRONG, Align.CENTER))
        blocks.append(Line(fmt.t(Label.NOT_PAID), Style.ALERT, Align.CENTER))
    if receipt.fiscal is not None:
        blocks += _fiscal(receipt.fiscal, fmt)
    if not receipt.unpaid and receipt.kind is not ReceiptKind.Z_REPORT:
        blocks.append(Rule())
        blocks.append(Line(fmt.t(Label.THANK_YOU), Style.NORMAL, Align.CENTER))
    return blocks


def block_texts(blocks: list[Block]) -> list[str]:
    """Every text the blocks show, in order: each rendering must carry all of them."""
    texts: list[str] = []
    for block in blocks:
        match block:
            case Line(text=text):
                texts.append(text)
            case Pair(label=label, value=value):
                texts += [label, value]
            case Item(name=name, amount=amount, details=details):
                texts += [name, amount, *details]
            case Table(header=header, rows=rows):
                texts += list(header)
                for row in rows:
                    texts += list(row)
            case Rule() | Qr():
                pass
    return [text for text in texts if text]


def qr_payloads(blocks: list[Block]) -> list[str]:
    return [block.payload for block in blocks if isinstance(block, Qr)]


class _Formatter:
    """Texts, money, dates and numbers of one receipt, in its language and the venue's time zone."""

    def __init__(self, receipt: Receipt, timezone: str) -> None:
        ZoneInfo(timezone)  # an unknown zone fails here, before anything is drawn
        self.timezone = timezone
        self.language = receipt.language if receipt.language in LANGUAGES else DEFAULT_LANGUAGE
        self.locale = Locale.parse(self.language)
        self.currency = receipt.currency

    def t(self, label: Label) -> str:
        return translate(label, self.language)

    def money(self, amount_minor: int) -> str:
        return format_money(amount_minor, self.currency, self.language)

    def moment(self, moment: datetime) -> str:
        # Babel's medium format carries seconds, which the TSE start and end times need.
        return format_moment(moment, self.timezone, self.language)

    def day(self, day: date) -> str:
        return format_date(day, format="medium", locale=self.locale)

    def count(self, number: int) -> str:
        return format_decimal(number, locale=self.locale)

    def rate(self, rate_bp: int) -> str:
        # 700 bp → "7 %" (de) / "7%" (en); 750 bp keeps its decimal ("7,5 %") instead of rounding to 8.
        return format_percent(Decimal(rate_bp) / 10000, locale=self.locale, decimal_quantization=False)


def _venue(receipt: Receipt, fmt: _Formatter) -> list[Block]:
    venue = receipt.venue
    blocks: list[Block] = [Line(venue.name, Style.STRONG, Align.CENTER)]
    blocks += [Line(line, Style.NORMAL, Align.CENTER) for line in venue.address if line]
    if venue.tax_id:
        # a VAT id starts with its country's letters (DE…, SE…); a tax number (Steuernummer, ИНН, org.nr)
        # does not — the same rule the DSFinV-K export uses to fill USTID or STNR
        label = Label.VAT_ID if venue.tax_id[:2].isalpha() else Label.TAX_NUMBER
        blocks.append(Line(f"{fmt.t(label)}: {venue.tax_id}", Style.NORMAL, Align.CENTER))
    return blocks


def _meta(receipt: Receipt, fmt: _Formatter) -> list[Block]:
    blocks: list[Block] = [
        Pair(fmt.t(Label.NUMBER), str(receipt.number)),
        Pair(fmt.t(Label.DATE), fmt.moment(receipt.issued_at)),
        Pair(fmt.t(Label.TILL), receipt.till_name),
    ]
    if receipt.operator:
        blocks.append(Pair(fmt.t(Label.OPERATOR), receipt.operator))
    if receipt.medium_uid:
        blocks.append(Pair(fmt.t(Label.MEDIUM), receipt.medium_uid))
    if receipt.reference:
        blocks.append(Pair(fmt.t(Label.REFERENCE), receipt.reference))
    return blocks


def _sale(receipt: Receipt, fmt: _Formatter) -> list[Block]:
    blocks: list[Block] = []
    if receipt.lines:
        blocks.append(Rule())
    for line in receipt.lines:
        details: list[str] = []
        if line.quantity != 1:
            details.append(f"{fmt.count(line.quantity)} × {fmt.money(line.unit_price_minor)}")
        details.append(f"{fmt.t(Label.VAT)} {fmt.rate(line.vat_rate_bp)}")
        if line.settlement_method:
            method = SETTLEMENT_METHODS.get(line.settlement_method)
            details.append(fmt.t(method) if method else line.settlement_method)
        blocks.append(Item(line.name, fmt.money(line.amount_minor), tuple(details)))
    blocks.append(Rule())
    blocks.append(Pair(fmt.t(Label.TOTAL), fmt.money(receipt.total_minor), Style.TITLE))
    if receipt.vat:
        blocks.append(_vat_table(receipt.vat, fmt))
    if receipt.tenders:
        blocks.append(Rule())
        for tender in receipt.tenders:
            blocks += _tender(tender, fmt)
    if receipt.change_minor or any(tender.kind == "cash" for tender in receipt.tenders):
        blocks.append(Pair(fmt.t(Label.CHANGE), fmt.money(receipt.change_minor), Style.STRONG))
    if receipt.balance_after_minor is not None:
        blocks.append(Pair(fmt.t(Label.BALANCE_AFTER), fmt.money(receipt.balance_after_minor), Style.STRONG))
    return blocks


def _vat_table(vat: list[VatLine], fmt: _Formatter) -> Table:
    header = (fmt.t(Label.VAT_RATE), fmt.t(Label.NET), fmt.t(Label.VAT), fmt.t(Label.GROSS))
    ordered = sorted(vat, key=lambda line: -line.rate_bp)
    rows = tuple(
        (fmt.rate(line.rate_bp), fmt.money(line.net_minor), fmt.money(line.vat_minor), fmt.money(line.gross_minor))
        for line in ordered
    )
    return Table(header, rows)


def _tender_label(kind: str, provider: str | None, fmt: _Formatter) -> str:
    label = TENDER_KINDS.get(kind)
    text = fmt.t(label) if label else kind
    return f"{text} ({provider})" if provider else text


def _tender(tender: TenderLine, fmt: _Formatter) -> list[Block]:
    blocks: list[Block] = [Pair(_tender_label(tender.kind, tender.provider, fmt), fmt.money(tender.amount_minor))]
    if tender.cashless:
        # seed 003: a card paid on a standalone terminal is booked and printed as payment type "cashless"
        blocks.append(Pair(fmt.t(Label.PAYMENT_TYPE), fmt.t(Label.CASHLESS), Style.SMALL))
    if tender.slip_number:
        blocks.append(Pair(fmt.t(Label.SLIP_NUMBER), tender.slip_number, Style.SMALL))
    return blocks


def _z_report(totals: ZTotals, fmt: _Formatter) -> list[Block]:
    blocks: list[Block] = [Pair(fmt.t(Label.BUSINESS_DAY), fmt.day(totals.business_day), Style.STRONG), Rule()]
    blocks.append(Line(fmt.t(Label.REVENUE_BY_RATE), Style.STRONG))
    blocks.append(_vat_table(totals.revenue_by_rate, fmt))
    blocks += [Rule(), Line(fmt.t(Label.TENDERS), Style.STRONG)]
    for key, amount in sorted(totals.tenders.items(), key=lambda item: _tender_order(item[0])):
        kind, _, provider = key.partition(":")
        blocks.append(Pair(_tender_label(kind, provider or None, fmt), fmt.money(amount)))
    blocks += [
        Rule(),
        Pair(fmt.t(Label.TOPUPS), fmt.money(totals.topups_minor)),
        Pair(fmt.t(Label.REFUNDS), fmt.money(totals.refunds_minor)),
        Pair(fmt.t(Label.CASH_EXPECTED), fmt.money(totals.cash_expected_minor), Style.STRONG),
        Rule(),
        Line(fmt.t(Label.BOOKINGS_BY_KIND), Style.STRONG),
    ]
    for code, number in sorted(totals.by_code.items(), key=lambda item: _code_order(item[0])):
        label = ENTRY_CODES.get(code)
        blocks.append(Pair(fmt.t(label) if label else code, fmt.count(number)))
    blocks.append(Pair(fmt.t(Label.BOOKINGS), fmt.count(totals.entries), Style.STRONG))
    return blocks


_CODE_VALUES = [code.value for code in EntryCode]
_TENDER_KIND_ORDER = list(TENDER_KINDS)


def _tender_order(key: str) -> tuple[int, str]:
    """Z report tender keys are "cash", "prepaid" or "card:<provider>": cash first, then cards per provider."""
    kind = key.partition(":")[0]
    rank = _TENDER_KIND_ORDER.index(kind) if kind in _TENDER_KIND_ORDER else len(_TENDER_KIND_ORDER)
    return (rank, key)


def _code_order(code: str) -> tuple[int, str]:
    """The closed list's order, so a Z report reads the same every day; unknown codes go last."""
    return (_CODE_VALUES.index(code), code) if code in _CODE_VALUES else (len(_CODE_VALUES), code)


def _fiscal(fiscal: FiscalBlock, fmt: _Formatter) -> list[Block]:
    """KassenSichV §6 / AEAO zu §146a: the data a German receipt must print, then the DSFinV-K QR code."""
    return [
        Rule(),
        Line(fmt.t(Label.FISCAL_HEADING), Style.STRONG),
        Pair(fmt.t(Label.TSE_SERIAL), fiscal.tse_serial, Style.SMALL),
        Pair(fmt.t(Label.CLIENT_ID), fiscal.client_id, Style.SMALL),
        Pair(fmt.t(Label.TRANSACTION_NUMBER), str(fiscal.transaction_number), Style.SMALL),
        Pair(fmt.t(Label.SIGNATURE_COUNTER), str(fiscal.signature_counter), Style.SMALL),
        Pair(fmt.t(Label.PROCESS_START), fmt.moment(fiscal.start), Style.SMALL),
        Pair(fmt.t(Label.PROCESS_END), fmt.moment(fiscal.end), Style.SMALL),
        Pair(fmt.t(Label.PROCESS_TYPE), fiscal.process_type, Style.SMALL),
        Pair(fmt.t(Label.SIGNATURE_ALGORITHM), fiscal.signature_algorithm, Style.SMALL),
        Line(fmt.t(Label.SIGNATURE), Style.SMALL),
        Line(fiscal.signature, Style.SMALL),
        Qr(fiscal.qr_payload),
    ]
