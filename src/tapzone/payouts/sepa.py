"""SEPA credit transfer initiation, ISO 20022 pain.001.001.09, and its check against the official schema.

Why .09 and not .03: the EPC's SCT rulebook moved to the 2019 ISO 20022 messages in November 2023, and
banks are retiring the 2009 version (.03) — German banks, for one, stop taking it in November 2025. A file
written today in .03 would need rewriting soon; .09 is what banks take now and will keep taking.

The file is built from integers (minor units) and strings only: amounts become decimal text by integer
division, never through a float. Element order follows the schema's sequences; `schema_errors` checks the
result against the XSD as ISO publishes it (shipped in the sepaxml package's wheel, not written here).
"""

from __future__ import annotations

import functools
import importlib.resources
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from tapzone.payouts.model import BankAccount, decimal_amount, sepa_text

if TYPE_CHECKING:
    import xmlschema

PAIN_001 = "pain.001.001.09"
NAMESPACE = f"urn:iso:std:iso:20022:tech:xsd:{PAIN_001}"
# A debtor bank that is not named (IBAN only, allowed within SEPA) is written as this, per the EPC guidelines.
NOT_PROVIDED = "NOTPROVIDED"


@dataclass(frozen=True, slots=True)
class Transfer:
    end_to_end_id: str
    amount_minor: int
    creditor: BankAccount
    remittance: str


@dataclass(frozen=True, slots=True)
class CreditTransferBatch:
    """One file with one payment information block: every transfer leaves the same debtor account on the
    same day, so the venue's statement shows a single debit (batch booking)."""

    message_id: str
    created_at: datetime
    execution_date: date
    debtor: BankAccount
    currency: str
    transfers: tuple[Transfer, ...]

    @property
    def total_minor(self) -> int:
        return sum(transfer.amount_minor for transfer in self.transfers)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _agent(parent: ET.Element, tag: str, bic: str | None) -> None:
    institution = _add(_add(parent, tag), "FinInstnId")
    if bic:
        _add(institution, "BICFI", bic)
    else:
        _add(_add(institution, "Othr"), "Id", NOT_PROVIDED)


def _account(parent: ET.Element, tag: str, iban: str) -> None:
    _add(_add(_add(parent, tag), "Id"), "IBAN", iban)


def pain001(batch: CreditTransferBatch) -> str:
    """The batch as a pain.001.001.09 document (UTF-8 XML text)."""
    if not batch.transfers:
        raise ValueError("a credit transfer file needs at least one transfer")
    count, control_sum = str(len(batch.transfers)), decimal_amount(batch.total_minor)
    document = ET.Element("Document", {"xmlns": NAMESPACE})
    initiation = _add(document, "CstmrCdtTrfInitn")

    header = _add(initiation, "GrpHdr")
    _add(header, "MsgId", batch.message_id)
    _add(header, "CreDtTm", batch.created_at.astimezone(UTC).isoformat(timespec="seconds"))
    _add(header, "NbOfTxs", count)
    _add(header, "CtrlSum", control_sum)
    _add(_add(header, "InitgPty"), "Nm", sepa_text(batch.debtor.holder, 70))

    block = _add(initiation, "PmtInf")
    _add(block, "PmtInfId", f"{batch.message_id}-1")
    _add(block, "PmtMtd", "TRF")
    _add(block, "BtchBookg", "true")
    _add(block, "NbOfTxs", count)
    _add(block, "CtrlSum", control_sum)
    _add(_add(_add(block, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
    _add(_add(block, "ReqdExctnDt"), "Dt", batch.execution_date.isoformat())
    _add(_add(block, "Dbtr"), "Nm", sepa_text(batch.debtor.holder, 70))
    _account(block, "DbtrAcct", batch.debtor.iban)
    _agent(block, "DbtrAgt", batch.debtor.bic)
    _add(block, "ChrgBr", "SLEV")  # SEPA: each side pays its own bank's charges
    for transfer in batch.transfers:
        item = _add(block, "CdtTrfTxInf")
        _add(_add(item, "PmtId"), "EndToEndId", transfer.end_to_end_id)
        _add(_add(item, "Amt"), "InstdAmt", decimal_amount(transfer.amount_minor), Ccy=batch.currency)
        if transfer.creditor.bic:
            _agent(item, "CdtrAgt", transfer.creditor.bic)
        _add(_add(item, "Cdtr"), "Nm", sepa_text(transfer.creditor.holder, 70))
        _account(item, "CdtrAcct", transfer.creditor.iban)
        remittance = sepa_text(transfer.remittance, 140)
        if remittance:  # optional, and empty text is invalid: a wholly non-Latin text is left out
            _add(_add(item, "RmtInf"), "Ustrd", remittance)
    ET.indent(document)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(document, encoding="unicode") + "\n"


@functools.cache
def _schema() -> xmlschema.XMLSchema:
    import xmlschema  # loaded on the first export only: parsing the XSD takes a moment

    resource = importlib.resources.files("sepaxml") / "schemas" / f"{PAIN_001}.xsd"
    with importlib.resources.as_file(resource) as path:
        return xmlschema.XMLSchema(str(path))


def schema_errors(document: str) -> list[str]:
    """What the official pain.001.001.09 schema finds wrong with `document` (empty when it validates)."""
    return [str(error.reason or error) for error in _schema().iter_errors(document)]
