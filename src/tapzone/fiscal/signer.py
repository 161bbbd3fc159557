"""The fiscal signer port (DESIGN §5): a technical security element (TSE, KassenSichV) behind one small interface.

A use case starts a transaction when an operation begins, may update it, and finishes it in the same database
transaction that books the operation, so a receipt is never booked unsigned or signed unbooked. The signer, not
the caller, sets the log times and counts: the caller only says which till (client id) records what.

Adapters: `tse_sim.TseSimulator` (software keys in the database, for tests, demos and venues outside Germany);
a certified TSE (USB/SD or cloud) plugs in as another implementation of `Signer`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from tapzone.errors import Conflict, NotFound
from tapzone.pos.receipts.model import FiscalBlock
from tapzone.store.uow import Tx

# processType values the DSFinV-K defines for the TSE (Anhang I): a receipt, an order, anything else.
PROCESS_TYPE_RECEIPT = "Kassenbeleg-V1"
PROCESS_TYPE_ORDER = "Bestellung-V1"
PROCESS_TYPE_OTHER = "SonstigerVorgang"

QR_VERSION = "V0"  # the only version of the receipt QR code the DSFinV-K defines so far


class TseTransactionUnknown(NotFound):
    """The signer has no such open or closed transaction (wrong number, or another venue's signer)."""

    type = "tse-transaction-unknown"


class TseTransactionFinished(Conflict):
    """A finished TSE transaction is closed for good: it cannot be updated or finished again."""

    type = "tse-transaction-finished"


@dataclass(frozen=True, slots=True)
class SignedOperation:
    """One signed log message: what a start, update or finish operation returns."""

    signature_counter: int
    log_time: datetime  # UTC, set by the signer
    signature: str  # base64


@dataclass(frozen=True, slots=True)
class TransactionHandle:
    """An open TSE transaction, as the caller keeps it until it finishes the transaction."""

    signer_id: int
    transaction_id: int  # the tse_transactions row; receipts point to it
    number: int  # the TSE's transaction number
    client_id: str
    started: SignedOperation


@dataclass(frozen=True, slots=True)
class SignedTransaction:
    """A finished transaction: everything a receipt and the DSFinV-K export need (FiscalBlock without the QR)."""

    transaction_id: int
    tse_serial: str
    signature_algorithm: str
    time_format: str
    public_key: str  # base64
    client_id: str
    transaction_number: int
    signature_counter: int  # of the finish operation
    start: datetime  # log time of the start operation, UTC
    end: datetime  # log time of the finish operation, UTC
    process_type: str
    process_data: str
    signature: str  # base64, of the finish operation


class Signer(Protocol):
    """What a use case needs from a TSE. Every call runs inside the caller's transaction `tx`."""

    def start_transaction(self, tx: Tx, client_id: str, process_type: str, process_data: str) -> TransactionHandle:
        """Open a transaction for the till `client_id`; numbers it and signs the start."""
        ...

    def update_transaction(
        self, tx: Tx, handle: TransactionHandle, process_type: str, process_data: str
    ) -> SignedOperation:
        """Sign an intermediate state of an open transaction (e.g. lines added to a long-running order)."""
        ...

    def finish_transaction(
        self, tx: Tx, handle: TransactionHandle, process_type: str, process_data: str
    ) -> SignedTransaction:
        """Close the transaction with its final process data; the returned signature goes on the receipt."""
        ...


def qr_time(moment: datetime) -> str:
    """A TSE log time as the QR code and the DSFinV-K write it: ISO 8601 in UTC with milliseconds."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def qr_payload(signed: SignedTransaction) -> str:
    """The receipt QR code's content in the DSFinV-K field order, separated by ';'.

    V0;<till serial>;<processType>;<processData>;<transaction no>;<signature counter>;<start>;<end>;
    <signature algorithm>;<log time format>;<signature>;<public key>
    """
    fields = [
        QR_VERSION,
        signed.client_id,
        signed.process_type,
        signed.process_data,
        str(signed.transaction_number),
        str(signed.signature_counter),
        qr_time(signed.start),
        qr_time(signed.end),
        signed.signature_algorithm,
        signed.time_format,
        signed.signature,
        signed.public_key,
    ]
    return ";".join(fields)


def fiscal_block(signed: SignedTransaction) -> FiscalBlock:
    """The signature block a German receipt carries (KassenSichV §6), with its QR payload."""
    return FiscalBlock(
        tse_serial=signed.tse_serial,
        signature_algorithm=signed.signature_algorithm,
        time_format=signed.time_format,
        public_key=signed.public_key,
        client_id=signed.client_id,
        transaction_number=signed.transaction_number,
        signature_counter=signed.signature_counter,
        start=signed.start,
        end=signed.end,
        process_type=signed.process_type,
        process_data=signed.process_data,
        signature=signed.signature,
        qr_payload=qr_payload(signed),
    )
