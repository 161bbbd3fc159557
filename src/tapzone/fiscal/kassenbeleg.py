"""A receipt in DSFinV-K terms: VAT keys, payment types, business-case types and the TSE process data.

One mapping serves both the TSE (`process_data`, signed when the receipt is issued) and the DSFinV-K export
(`bon_of`, read back from the stored receipt), so what the TSE signed and what the export lists cannot drift.

Prepaid value on a medium is a multi-purpose voucher under the `de` profile (DESIGN §3). The DSFinV-K shows a
voucher as positions, not as a payment: loading it is a `MehrzweckgutscheinKauf` position, spending it is a
negative `MehrzweckgutscheinEinloesung` position, both under VAT key 5 (not taxable); a receipt paid with prepaid
value alone has the payment type `Keine`. Cash given back as change is taken off the cash payment.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from tapzone.errors import InvalidRequest
from tapzone.pos.receipts.model import Receipt, ReceiptKind, ReceiptLine, TenderLine

# DSFinV-K VAT keys 1–5 (Stamm_USt) in the order the process data lists gross amounts per rate.
STANDARD_VAT_KEYS: dict[int, tuple[int, str]] = {
    1900: (1, "Regelsteuersatz"),
    700: (2, "Ermäßigter Steuersatz"),
    1070: (3, "Durchschnittsatz § 24 Abs. 1 Nr. 3 UStG"),
    550: (4, "Durchschnittsatz § 24 Abs. 1 Nr. 1 UStG"),
    0: (5, "Nicht steuerbar"),
}
NOT_TAXABLE_KEY = 5
# The DSFinV-K leaves keys from 1000 up to the till for any other rate (e.g. a historical one).
CUSTOM_VAT_KEY_BASE = 1000

BON_TYPE_RECEIPT = "Beleg"
BON_TYPE_OTHER = "AVSonstige"

GV_SALE = "Umsatz"
GV_VOUCHER_SOLD = "MehrzweckgutscheinKauf"
GV_VOUCHER_REDEEMED = "MehrzweckgutscheinEinloesung"

PAYMENT_CASH = "Bar"
PAYMENT_CASHLESS = "Unbar"
PAYMENT_NONE = "Keine"


@dataclass(frozen=True, slots=True)
class Position:
    """One Bonpos line: the receipt line, or the voucher line the export adds for prepaid value."""

    text: str
    business_case: str  # GV_TYP
    quantity: int
    unit_gross_minor: int
    gross_minor: int
    vat_rate_bp: int


@dataclass(frozen=True, slots=True)
class Payment:
    kind: str  # ZAHLART_TYP: Bar, Unbar or Keine
    name: str  # ZAHLART_NAME: the tender as the till names it (cash, card, the terminal's provider, …)
    currency: str
    amount_minor: int


@dataclass(frozen=True, slots=True)
class Bon:
    """What the DSFinV-K records of one receipt (Bonkopf with its positions and payments)."""

    bon_type: str
    positions: list[Position]
    payments: list[Payment]
    name: str = ""  # BON_NAME: says what an "other event" (AVSonstige) was

    @property
    def gross_minor(self) -> int:
        return sum(position.gross_minor for position in self.positions)

    def gross_by_key(self) -> dict[int, int]:
        totals: dict[int, int] = defaultdict(int)
        for position in self.positions:
            totals[vat_key(position.vat_rate_bp)] += position.gross_minor
        return dict(totals)


def vat_key(rate_bp: int) -> int:
    """The DSFinV-K VAT key (UST_SCHLUESSEL) of a rate in basis points."""
    standard = STANDARD_VAT_KEYS.get(rate_bp)
    return standard[0] if standard else CUSTOM_VAT_KEY_BASE + rate_bp


def vat_key_description(rate_bp: int) -> str:
    standard = STANDARD_VAT_KEYS.get(rate_bp)
    return standard[1] if standard else f"Sondersteuersatz {rate_bp / 100:g} %"


def bon_of(receipt: Receipt) -> Bon:
    """The DSFinV-K view of an issued receipt."""
    if receipt.kind is ReceiptKind.Z_REPORT:
        # The closing itself; listed as an event so that its TSE transaction, if it was signed, is accounted for.
        return Bon(BON_TYPE_OTHER, [], [], name="Z-Bon")
    if receipt.kind is ReceiptKind.BILL:
        # seed 001 "Nota": the open lines printed unpaid; a recorded event, not a sale (no payments).
        return Bon(BON_TYPE_OTHER, [_position(line, GV_SALE) for line in receipt.lines], [], name="Nota (unbezahlt)")
    if receipt.kind is ReceiptKind.TOPUP:
        positions = [_position(line, GV_VOUCHER_SOLD, rate_bp=0) for line in receipt.lines]
    elif receipt.kind is ReceiptKind.REFUND:
        # Prepaid value paid back: the voucher is redeemed for cash, the cash payment is negative.
        positions = [_voucher_redeemed(line.amount_minor, line.name) for line in receipt.lines]
    else:
        positions = [_position(line, GV_SALE) for line in receipt.lines]
        prepaid = sum(tender.amount_minor for tender in receipt.tenders if tender.kind == "prepaid")
        if prepaid:
            positions.append(_voucher_redeemed(prepaid, "Guthaben (Mehrzweckgutschein)"))
    sign = -1 if receipt.kind is ReceiptKind.REFUND else 1
    return Bon(BON_TYPE_RECEIPT, positions, _payments(receipt, sign))


def process_data(receipt: Receipt) -> str:
    """The Kassenbeleg-V1 process data the TSE signs: `<Vorgangstyp>^<gross per VAT key 1–5>^<payments>`.

    Gross amounts per rate are listed for keys 1–5 in that order with two decimals, 0.00 where unused; payments
    are `<amount>:Bar|Unbar[:<currency>]`, summed per type, the currency only when it is not EUR. A Z report is
    no Kassenbeleg and is refused; a bill gets `AVSonstige` data, though a till may sign it as SonstigerVorgang.
    """
    if receipt.kind is ReceiptKind.Z_REPORT:
        raise InvalidRequest("a Z report is a closing, not a Kassenbeleg")
    bon = bon_of(receipt)
    by_key = bon.gross_by_key()
    custom = [key for key in by_key if key > NOT_TAXABLE_KEY and by_key[key]]
    if custom:
        raise InvalidRequest(f"VAT keys {custom} have no place in Kassenbeleg-V1 process data")
    gross = "_".join(_decimal(by_key.get(key, 0)) for key in range(1, NOT_TAXABLE_KEY + 1))
    summed: dict[tuple[str, str], int] = defaultdict(int)
    for payment in bon.payments:
        if payment.kind != PAYMENT_NONE:
            summed[(payment.kind, payment.currency)] += payment.amount_minor
    payments = "_".join(
        f"{_decimal(amount)}:{kind}" + ("" if currency == "EUR" else f":{currency}")
        # Cash first, then cashless, as the DSFinV-K examples list them.
        for (kind, currency), amount in sorted(summed.items(), key=lambda item: (item[0][0] != PAYMENT_CASH, item[0]))
        if amount
    )
    return f"{bon.bon_type}^{gross}^{payments}"


def _position(line: ReceiptLine, business_case: str, rate_bp: int | None = None) -> Position:
    return Position(
        text=line.name,
        business_case=business_case,
        quantity=line.quantity,
        unit_gross_minor=line.unit_price_minor,
        gross_minor=line.amount_minor,
        vat_rate_bp=line.vat_rate_bp if rate_bp is None else rate_bp,
    )


def _voucher_redeemed(amount_minor: int, text: str) -> Position:
    return Position(
        text=text,
        business_case=GV_VOUCHER_REDEEMED,
        quantity=1,
        unit_gross_minor=-amount_minor,
        gross_minor=-amount_minor,
        vat_rate_bp=0,
    )


def _payments(receipt: Receipt, sign: int) -> list[Payment]:
    payments: list[Payment] = []
    change_left = receipt.change_minor
    for tender in receipt.tenders:
        if tender.kind == "prepaid":
            continue  # a voucher position, not a payment (module docstring)
        amount = tender.amount_minor
        if _is_cash(tender) and change_left:
            taken = min(change_left, amount)
            amount -= taken
            change_left -= taken
        if amount:
            kind = PAYMENT_CASH if _is_cash(tender) else PAYMENT_CASHLESS
            payments.append(Payment(kind, tender.provider or tender.kind, receipt.currency, sign * amount))
    if not payments:
        payments.append(Payment(PAYMENT_NONE, "", receipt.currency, 0))
    return payments


def _is_cash(tender: TenderLine) -> bool:
    return tender.kind == "cash" and not tender.cashless


def _decimal(amount_minor: int) -> str:
    """Minor units as the process data writes them: a point and exactly two decimals (EUR has two)."""
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(amount_minor), 100)
    return f"{sign}{whole}.{cents:02d}"
