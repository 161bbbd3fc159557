"""Receipts in DSFinV-K terms and the QR code, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tapzone.errors import InvalidRequest
from tapzone.fiscal.kassenbeleg import GV_VOUCHER_REDEEMED, GV_VOUCHER_SOLD, bon_of, process_data, vat_key
from tapzone.fiscal.signer import SignedTransaction, qr_payload, qr_time
from tapzone.pos.receipts.model import Receipt, ReceiptKind, ReceiptLine, TenderLine
from tests.fiscal.issue import VENUE_HEADER, line

BEER = line("Beer", 1, 450, 1900)
FRIES = line("Fries", 2, 320, 700)


def receipt(kind: ReceiptKind, lines: list[ReceiptLine], tenders: list[TenderLine], change: int = 0) -> Receipt:
    return Receipt(
        kind=kind,
        number=1,
        venue=VENUE_HEADER,
        till_name="Till 1",
        till_serial="TZ-1-1",
        issued_at=datetime(2026, 7, 4, 10, tzinfo=UTC),
        language="de",
        currency="EUR",
        lines=lines,
        tenders=tenders,
        total_minor=sum(item.amount_minor for item in lines),
        change_minor=change,
    )


def test_process_data_lists_gross_per_rate_in_key_order_and_net_cash() -> None:
    sale = receipt(ReceiptKind.PURCHASE, [BEER, FRIES], [TenderLine(kind="cash", amount_minor=2000)], change=910)
    assert process_data(sale) == "Beleg^4.50_6.40_0.00_0.00_0.00^10.90:Bar"


def test_cash_and_card_are_summed_per_type_cash_first() -> None:
    sale = receipt(
        ReceiptKind.SETTLEMENT,
        [BEER, FRIES],
        [
            TenderLine(kind="card", amount_minor=500, provider="girocard"),
            TenderLine(kind="cash", amount_minor=300),
            TenderLine(kind="card", amount_minor=200, provider="visa"),
            TenderLine(kind="cash", amount_minor=90),
        ],
    )
    assert process_data(sale) == "Beleg^4.50_6.40_0.00_0.00_0.00^3.90:Bar_7.00:Unbar"


def test_a_cashless_tender_is_unbar_even_when_entered_as_cash() -> None:
    sale = receipt(ReceiptKind.PURCHASE, [BEER], [TenderLine(kind="cash", amount_minor=450, cashless=True)])
    assert process_data(sale) == "Beleg^4.50_0.00_0.00_0.00_0.00^4.50:Unbar"


def test_prepaid_value_is_a_multi_purpose_voucher() -> None:
    topup = receipt(ReceiptKind.TOPUP, [line("Guthaben", 1, 3000, 0)], [TenderLine(kind="card", amount_minor=3000)])
    assert process_data(topup) == "Beleg^0.00_0.00_0.00_0.00_30.00^30.00:Unbar"
    assert [p.business_case for p in bon_of(topup).positions] == [GV_VOUCHER_SOLD]

    spent = receipt(ReceiptKind.PURCHASE, [BEER, FRIES], [TenderLine(kind="prepaid", amount_minor=1090)])
    bon = bon_of(spent)
    assert bon.positions[-1].business_case == GV_VOUCHER_REDEEMED
    assert bon.gross_minor == 0
    assert [(p.kind, p.amount_minor) for p in bon.payments] == [("Keine", 0)]
    assert process_data(spent) == "Beleg^4.50_6.40_0.00_0.00_-10.90^"

    paid_back = receipt(ReceiptKind.REFUND, [line("Guthaben", 1, 500, 0)], [TenderLine(kind="cash", amount_minor=500)])
    assert process_data(paid_back) == "Beleg^0.00_0.00_0.00_0.00_-5.00^-5.00:Bar"


def test_a_bill_and_a_z_report_are_other_events_without_payment() -> None:
    bill = receipt(ReceiptKind.BILL, [BEER], [])
    assert process_data(bill) == "AVSonstige^4.50_0.00_0.00_0.00_0.00^"
    assert (bon_of(bill).bon_type, bon_of(bill).payments, bon_of(bill).name) == ("AVSonstige", [], "Nota (unbezahlt)")
    z_report = receipt(ReceiptKind.Z_REPORT, [], [])
    assert (bon_of(z_report).bon_type, bon_of(z_report).positions, bon_of(z_report).name) == ("AVSonstige", [], "Z-Bon")
    with pytest.raises(InvalidRequest):
        process_data(z_report)


def test_rates_outside_the_five_standard_ones_get_keys_from_1000() -> None:
    assert [vat_key(rate) for rate in (1900, 700, 1070, 550, 0, 1600)] == [1, 2, 3, 4, 5, 2600]
    with pytest.raises(InvalidRequest):
        process_data(receipt(ReceiptKind.PURCHASE, [line("Old rate", 1, 116, 1600)], []))


def test_qr_payload_follows_the_dsfinvk_field_order() -> None:
    signed = SignedTransaction(
        transaction_id=7,
        tse_serial="ab" * 32,
        signature_algorithm="ecdsa-plain-SHA256",
        time_format="unixTime",
        public_key="BPUB==",
        client_id="TZ-1-1",
        transaction_number=13,
        signature_counter=27,
        start=datetime(2026, 11, 22, 17, 30, 5, 250_000, tzinfo=UTC),
        end=datetime(2026, 11, 22, 17, 31, tzinfo=UTC),
        process_type="Kassenbeleg-V1",
        process_data="Beleg^4.50_0.00_0.00_0.00_0.00^4.50:Bar",
        signature="SIG==",
    )
    assert qr_payload(signed) == (
        "V0;TZ-1-1;Kassenbeleg-V1;Beleg^4.50_0.00_0.00_0.00_0.00^4.50:Bar;13;27;"
        "2026-11-22T17:30:05.250Z;2026-11-22T17:31:00.000Z;ecdsa-plain-SHA256;unixTime;SIG==;BPUB=="
    )
    assert qr_time(datetime(2026, 11, 22, 18, 30, tzinfo=UTC).astimezone()) == "2026-11-22T18:30:00.000Z"
