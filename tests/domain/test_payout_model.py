"""Payout domain without a database: bank details, SEPA text and amounts, the pain.001 file and its schema."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from tapzone.errors import CurrencyMismatch, InvalidBic, InvalidIban, InvalidRequest
from tapzone.payouts.model import bank_account, check_sepa_currency, decimal_amount, sepa_text
from tapzone.payouts.sepa import NAMESPACE, CreditTransferBatch, Transfer, pain001
from tests.sepa_schema import pain001_errors

NS = {"p": NAMESPACE}


def test_iban_is_validated_and_normalised_and_the_bic_looked_up() -> None:
    account = bank_account("  Jürgen   Groß ", "de89 3704 0044 0532 0130 00")
    assert account == bank_account("Jürgen Groß", "DE89370400440532013000", None)
    assert (account.holder, account.iban, account.bic) == ("Jürgen Groß", "DE89370400440532013000", "COBADEFFXXX")


def test_a_given_bic_is_validated_and_kept() -> None:
    assert bank_account("Ann Ek", "FR1420041010050500013M02606", "psstfrpp").bic == "PSSTFRPP"
    with pytest.raises(InvalidBic):
        bank_account("Ann Ek", "FR1420041010050500013M02606", "PSSTFRP")
    with pytest.raises(InvalidBic):
        bank_account("Ann Ek", "FR1420041010050500013M02606", "PSSTXXPP")  # no such country


@pytest.mark.parametrize(
    "iban",
    [
        "DE89370400440532013001",  # check digits wrong
        "DE8937040044053201300",  # too short for Germany
        "XX89370400440532013000",  # no such country
        "not an iban",
        "BR1800360305000010009795493C1",  # a valid IBAN, but Brazil is not in SEPA
    ],
)
def test_bad_or_non_sepa_ibans_are_refused(iban: str) -> None:
    with pytest.raises(InvalidIban):
        bank_account("Ann Ek", iban)


@pytest.mark.parametrize("holder", ["", "   ", "x" * 71, "张伟"])
def test_holder_name_must_fit_a_sepa_file(holder: str) -> None:
    with pytest.raises(InvalidRequest):
        bank_account(holder, "DE89370400440532013000")


def test_sepa_text_keeps_the_basic_latin_set_only() -> None:
    assert sepa_text("Jürgen Groß & Søn", 70) == "Jurgen Gross + Son"
    assert sepa_text("Åsa Öberg; <Ltd>", 70) == "Asa Oberg Ltd"
    assert sepa_text("a" * 80, 70) == "a" * 70


@pytest.mark.parametrize(
    ("minor", "text"), [(0, "0.00"), (5, "0.05"), (99, "0.99"), (100, "1.00"), (123456789, "1234567.89")]
)
def test_amounts_are_decimal_text_from_integers(minor: int, text: str) -> None:
    assert decimal_amount(minor) == text


def test_only_euro_can_be_sent_by_sepa() -> None:
    check_sepa_currency("EUR")
    with pytest.raises(CurrencyMismatch):
        check_sepa_currency("SEK")


def _batch(amounts: list[int], debtor_bic: str | None = None) -> CreditTransferBatch:
    creditors = [
        bank_account("Jürgen Groß", "DE89370400440532013000"),
        bank_account("Ann Ek", "SE4550000000058398257466", "ESSESESS"),
        bank_account("Mia Novak", "AT611904300234573201"),
    ]
    return CreditTransferBatch(
        message_id="TZ1-20260704100000-0A1B2C3D",
        created_at=datetime(2026, 7, 4, 10, 0, tzinfo=UTC),
        execution_date=date(2026, 7, 4),
        debtor=bank_account("Aquapark Test GmbH", "NL91ABNA0417164300", debtor_bic),
        currency="EUR",
        transfers=tuple(
            Transfer(f"TZ-PAYOUT-{n}", amount, creditors[n % 3], "Auszahlung Restguthaben Aquapark")
            for n, amount in enumerate(amounts, start=1)
        ),
    )


def test_the_file_validates_and_its_sums_are_exact() -> None:
    amounts = [1, 10, 333, 99_999, 10**10]  # 0.01 … 100,000,000.00: no rounding anywhere
    document = pain001(_batch(amounts))

    assert pain001_errors(document) == []
    root = ET.fromstring(document)
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "5"
    control_sum = Decimal(root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS) or "")
    assert control_sum == Decimal(sum(amounts)) / 100
    blocks = root.findall("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert len(blocks) == 1
    assert blocks[0].findtext("p:CtrlSum", namespaces=NS) == "100001003.43"
    sent = [element.text for element in blocks[0].findall("p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]
    assert sent == ["0.01", "0.10", "3.33", "999.99", "100000000.00"]
    ids = [element.text for element in blocks[0].findall("p:CdtTrfTxInf/p:PmtId/p:EndToEndId", NS)]
    assert ids == [f"TZ-PAYOUT-{n}" for n in range(1, 6)]
    names = [element.text for element in blocks[0].findall("p:CdtTrfTxInf/p:Cdtr/p:Nm", NS)]
    assert names[0] == "Ann Ek" and "Jurgen Gross" in names


def test_a_debtor_bank_that_is_not_known_is_written_as_not_provided() -> None:
    known = ET.fromstring(pain001(_batch([100], debtor_bic="ABNANL2A")))
    assert known.findtext(".//p:DbtrAgt/p:FinInstnId/p:BICFI", namespaces=NS) == "ABNANL2A"
    batch = _batch([100])
    unknown = dataclasses.replace(batch, debtor=dataclasses.replace(batch.debtor, bic=None))
    document = pain001(unknown)
    assert pain001_errors(document) == []
    assert ET.fromstring(document).findtext(".//p:DbtrAgt/p:FinInstnId/p:Othr/p:Id", namespaces=NS) == "NOTPROVIDED"


def test_the_schema_check_catches_a_broken_file() -> None:
    document = pain001(_batch([250]))
    assert pain001_errors(document.replace("<CtrlSum>2.50</CtrlSum>", "<CtrlSum>2,50</CtrlSum>")) != []
    assert pain001_errors(document.replace("<PmtMtd>TRF</PmtMtd>", "")) != []


def test_a_remittance_text_with_no_latin_letter_is_left_out() -> None:
    batch = _batch([100])
    transfer = dataclasses.replace(batch.transfers[0], remittance="Выплата")
    document = pain001(dataclasses.replace(batch, transfers=(transfer,)))
    assert pain001_errors(document) == []
    assert "RmtInf" not in document
