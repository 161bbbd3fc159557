"""The rows of one DSFinV-K cash-register closing (one till and business day), built from its issued receipts.

`dsfinvk.export_day` loads the receipts and numbers the closing; this module turns them into rows of the
DSFinV-K files and keeps the closing's sums, which are taken from the same positions and payments as the rows,
so Bonpos_USt, Bonkopf_USt and Z_GV_Typ add up to the cent.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from tapzone import __version__
from tapzone.fiscal import dsfinvk_layout as layout
from tapzone.fiscal.kassenbeleg import (
    BON_TYPE_RECEIPT,
    PAYMENT_CASH,
    STANDARD_VAT_KEYS,
    Bon,
    bon_of,
    vat_key,
    vat_key_description,
)
from tapzone.fiscal.signer import qr_time
from tapzone.fiscal.tse_sim import TIME_FORMAT
from tapzone.pos.receipts.model import Receipt
from tapzone.pos.vat import vat_included
from tapzone.store.tables import tse_signers

TAXONOMY_VERSION = "2.4"
SOFTWARE = "tapzone"
COUNTRY = "DEU"
_POSTCODE_CITY = re.compile(r"^(\d{4,5})\s+(.+)$")

Rows = dict[str, list[layout.Row]]


@dataclass
class Issued:
    receipt: Receipt
    operator_id: int | None
    tse: sa.Row[Any] | None


@dataclass
class Closing:
    """One till's day: its receipts and the running sums of the Kassenabschlussmodul."""

    device_id: int
    device_name: str
    issued: list[Issued]
    key: layout.Row = field(default_factory=dict)
    by_case: dict[tuple[str, int], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_payment: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    cash_by_currency: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def add_transaction(rows: Rows, closing: Closing, issued: Issued, zone: ZoneInfo) -> None:
    receipt = issued.receipt
    bon = bon_of(receipt)
    bon_key = {**closing.key, "BON_ID": str(receipt.number)}
    fiscal = receipt.fiscal
    rows["transactions.csv"].append(
        {
            **bon_key,
            "BON_NR": str(receipt.number),
            "BON_TYP": bon.bon_type,
            "BON_NAME": bon.name,
            "TERMINAL_ID": closing.key["Z_KASSE_ID"],
            "BON_STORNO": "0",
            "BON_START": local_time(fiscal.start if fiscal else receipt.issued_at, zone),
            "BON_ENDE": local_time(fiscal.end if fiscal else receipt.issued_at, zone),
            "BEDIENER_ID": "" if issued.operator_id is None else str(issued.operator_id),
            "BEDIENER_NAME": receipt.operator or "",
            "UMS_BRUTTO": layout.amount(bon.gross_minor),
            "BON_NOTIZ": receipt.reference or "",
        }
    )
    vat_by_key = _vat_by_key(receipt, bon)
    position_vat = _position_vat(bon, vat_by_key)
    counts = bon.bon_type == BON_TYPE_RECEIPT  # only receipts of payment enter the closing sums
    for line_no, (position, vat) in enumerate(zip(bon.positions, position_vat, strict=True), start=1):
        key = vat_key(position.vat_rate_bp)
        rows["lines.csv"].append(
            {
                **bon_key,
                "POS_ZEILE": str(line_no),
                "ARTIKELTEXT": position.text,
                "POS_TERMINAL_ID": closing.key["Z_KASSE_ID"],
                "GV_TYP": position.business_case,
                "INHAUS": "0",
                "P_STORNO": "0",
                "AGENTUR_ID": "0",
                "MENGE": layout.quantity(position.quantity),
                "FAKTOR": layout.quantity(1),
                "EINHEIT": "Stück",
                "STK_BR": layout.amount(position.unit_gross_minor, 5),
            }
        )
        rows["lines_vat.csv"].append(
            {
                **bon_key,
                "POS_ZEILE": str(line_no),
                "UST_SCHLUESSEL": str(key),
                "POS_BRUTTO": layout.amount(position.gross_minor, 5),
                "POS_NETTO": layout.amount(position.gross_minor - vat, 5),
                "POS_UST": layout.amount(vat, 5),
            }
        )
        if counts:
            sums = closing.by_case[(position.business_case, key)]
            sums[0] += position.gross_minor
            sums[1] += vat
    for key, (gross, vat) in sorted(vat_by_key.items()):
        rows["transactions_vat.csv"].append(
            {
                **bon_key,
                "UST_SCHLUESSEL": str(key),
                "BON_BRUTTO": layout.amount(gross, 5),
                "BON_NETTO": layout.amount(gross - vat, 5),
                "BON_UST": layout.amount(vat, 5),
            }
        )
    for payment in bon.payments if counts else []:
        rows["datapayment.csv"].append(
            {
                **bon_key,
                "ZAHLART_TYP": payment.kind,
                "ZAHLART_NAME": payment.name,
                "BASISWAEH_BETRAG": layout.amount(payment.amount_minor),
            }
        )
        if payment.amount_minor:
            closing.by_payment[(payment.kind, payment.name)] += payment.amount_minor
        if payment.kind == PAYMENT_CASH:
            closing.cash_by_currency[payment.currency] += payment.amount_minor
    rows["transactions_tse.csv"].append({**bon_key, **_tse_columns(issued)})


def _vat_by_key(receipt: Receipt, bon: Bon) -> dict[int, tuple[int, int]]:
    """Gross and VAT per VAT key of one receipt: the printed VAT where the receipt shows that rate."""
    printed = {line.rate_bp: line for line in receipt.vat}
    result: dict[int, tuple[int, int]] = {}
    for key, gross in bon.gross_by_key().items():
        rate = next(p.vat_rate_bp for p in bon.positions if vat_key(p.vat_rate_bp) == key)
        shown = printed.get(rate)
        vat = shown.vat_minor if shown is not None and shown.gross_minor == gross else vat_included(gross, rate)
        result[key] = (gross, vat)
    return result


def _position_vat(bon: Bon, vat_by_key: dict[int, tuple[int, int]]) -> list[int]:
    """VAT per position, derived per line and evened out on the last line of each rate, so that positions add up
    exactly to the receipt's VAT (Bonpos_USt = Bonkopf_USt = Z_GV_Typ, to the cent)."""
    vats = [vat_included(position.gross_minor, position.vat_rate_bp) for position in bon.positions]
    last_of_key: dict[int, int] = {}
    for index, position in enumerate(bon.positions):
        last_of_key[vat_key(position.vat_rate_bp)] = index
    for key, index in last_of_key.items():
        same_key = [i for i, p in enumerate(bon.positions) if vat_key(p.vat_rate_bp) == key]
        vats[index] += vat_by_key[key][1] - sum(vats[i] for i in same_key)
    return vats


def _tse_columns(issued: Issued) -> layout.Row:
    tse, fiscal = issued.tse, issued.receipt.fiscal
    if tse is not None and tse.state == "finished":
        return {
            "TSE_ID": str(tse.signer_id),
            "TSE_TANR": str(tse.number),
            "TSE_TA_START": qr_time(tse.started_at),
            "TSE_TA_ENDE": qr_time(tse.finished_at),
            "TSE_TA_VORGANGSART": tse.process_type,
            "TSE_TA_SIGZ": str(tse.signature_counter),
            "TSE_TA_SIG": tse.signature or "",
            "TSE_VORGANGSDATEN": tse.process_data,
        }
    if fiscal is not None:  # signed, but the transaction row is not linked: the printed block is the record
        return {
            "TSE_TANR": str(fiscal.transaction_number),
            "TSE_TA_START": qr_time(fiscal.start),
            "TSE_TA_ENDE": qr_time(fiscal.end),
            "TSE_TA_VORGANGSART": fiscal.process_type,
            "TSE_TA_SIGZ": str(fiscal.signature_counter),
            "TSE_TA_SIG": fiscal.signature,
            "TSE_TA_FEHLER": f"TSE-Transaktion nicht verknüpft (TSE {fiscal.tse_serial[:16]}…)",
            "TSE_VORGANGSDATEN": fiscal.process_data,
        }
    reason = "TSE-Transaktion nicht abgeschlossen" if tse is not None else "keine TSE-Transaktion"
    return {"TSE_TA_FEHLER": reason}


def add_master_data(
    conn: sa.Connection,
    rows: Rows,
    closing: Closing,
    venue: sa.Row[Any],
    day: date,
) -> None:
    header = closing.issued[0].receipt.venue
    street, postcode, city = _address(header.address)
    vat_id = header.tax_id if header.tax_id and header.tax_id[:2].isalpha() else ""
    tax_number = header.tax_id if header.tax_id and not vat_id else ""
    created_day = datetime.fromisoformat(closing.key["Z_ERSTELLUNG"]).date()
    first, last = closing.issued[0].receipt.number, closing.issued[-1].receipt.number
    payments = sum(closing.by_payment.values())
    cash = sum(amount for (kind, _), amount in closing.by_payment.items() if kind == PAYMENT_CASH)
    rows["cashpointclosing.csv"].append(
        {
            **closing.key,
            "Z_BUCHUNGSTAG": "" if created_day == day else day.isoformat(),
            "TAXONOMIE_VERSION": TAXONOMY_VERSION,
            "Z_START_ID": str(first),
            "Z_ENDE_ID": str(last),
            "NAME": header.name,
            "STRASSE": street,
            "PLZ": postcode,
            "ORT": city,
            "LAND": COUNTRY,
            "STNR": tax_number or "",
            "USTID": vat_id,
            "Z_SE_ZAHLUNGEN": layout.amount(payments),
            "Z_SE_BARZAHLUNGEN": layout.amount(cash),
        }
    )
    rows["location.csv"].append(
        {
            **closing.key,
            "LOC_NAME": venue.name,
            "LOC_STRASSE": street,
            "LOC_PLZ": postcode,
            "LOC_ORT": city,
            "LOC_LAND": COUNTRY,
            "LOC_USTID": vat_id,
        }
    )
    rows["cashregister.csv"].append(
        {
            **closing.key,
            "KASSE_BRAND": SOFTWARE,
            "KASSE_MODELL": f"{SOFTWARE} till",
            "KASSE_SERIENNR": closing.key["Z_KASSE_ID"],
            "KASSE_SW_BRAND": SOFTWARE,
            "KASSE_SW_VERSION": __version__,
            "KASSE_BASISWAEH_CODE": venue.currency,
            "KEINE_UST_ZUORDNUNG": "0",
        }
    )
    used_rates = {p.vat_rate_bp for issued in closing.issued for p in bon_of(issued.receipt).positions}
    for rate in sorted(set(STANDARD_VAT_KEYS) | used_rates, key=vat_key):
        rows["vat.csv"].append(
            {
                **closing.key,
                "UST_SCHLUESSEL": str(vat_key(rate)),
                "UST_SATZ": layout.percent(rate),
                "UST_BESCHR": vat_key_description(rate),
            }
        )
    # Each closing lists the TSEs its transactions were signed with (TSE_ID refers to them).
    closing_signers = {issued.tse.signer_id for issued in closing.issued if issued.tse is not None}
    signers = conn.execute(
        sa.select(tse_signers).where(tse_signers.c.id.in_(sorted(closing_signers))).order_by(tse_signers.c.id)
    )
    for signer in signers:
        rows["tse.csv"].append(
            {
                **closing.key,
                "TSE_ID": str(signer.id),
                "TSE_SERIAL": signer.serial,
                "TSE_SIG_ALGO": signer.signature_algorithm,
                "TSE_ZEITFORMAT": TIME_FORMAT,
                "TSE_PD_ENCODING": "UTF-8",
                "TSE_PUBLIC_KEY": signer.public_key,
            }
        )


def add_closing_sums(rows: Rows, closing: Closing, currency: str) -> None:
    for (business_case, key), (gross, vat) in sorted(closing.by_case.items()):
        rows["businesscases.csv"].append(
            {
                **closing.key,
                "GV_TYP": business_case,
                "AGENTUR_ID": "0",
                "UST_SCHLUESSEL": str(key),
                "Z_UMS_BRUTTO": layout.amount(gross, 5),
                "Z_UMS_NETTO": layout.amount(gross - vat, 5),
                "Z_UST": layout.amount(vat, 5),
            }
        )
    for (kind, name), amount in sorted(closing.by_payment.items()):
        rows["payment.csv"].append(
            {**closing.key, "ZAHLART_TYP": kind, "ZAHLART_NAME": name, "Z_ZAHLART_BETRAG": layout.amount(amount)}
        )
    # The base currency always appears: the file answers "how much cash should be in the drawer" (Kassensturz).
    cash = {currency: 0, **closing.cash_by_currency}
    for code, amount in sorted(cash.items()):
        rows["cash_per_currency.csv"].append(
            {**closing.key, "ZAHLART_WAEH": code, "ZAHLART_BETRAG_WAEH": layout.amount(amount)}
        )


def _address(lines: list[str]) -> tuple[str, str, str]:
    """Street, postcode and city from the address lines the venue prints ("Badstraße 1", "10115 Berlin")."""
    street = lines[0] if lines else ""
    for line in lines[1:]:
        match = _POSTCODE_CITY.match(line.strip())
        if match:
            return street, match.group(1), match.group(2)
    return street, "", lines[-1] if len(lines) > 1 else ""


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """A business time as the DSFinV-K lists it outside the TSE columns: local time with its UTC offset."""
    return moment.astimezone(zone).isoformat(timespec="seconds")
