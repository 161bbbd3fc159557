"""A software TSE: the `Signer` port implemented on the venue's own database, for tests, demos and training.

It behaves like a certified TSE where a till can observe it: one key pair per signer, the serial number is the
SHA-256 of the public key (BSI TR-03153 §7.5), every start, update and finish operation takes the next value of
one signature counter, every start takes the next transaction number, and the signer sets the log times.
It is not a security device: its private key sits in `tse_signers.private_key`, readable by anyone who can read
the database. Germany requires a certified TSE in production; this simulator is what the port is tested with.

Counters live in the `tse_signers` row and change under a row lock inside the caller's transaction, so they are
gapless and monotonic across restarts and processes, and roll back together with a booking that fails.

The signed message (`log_message`) follows the field order of a TR-03153 transaction log message, but is encoded
as length-prefixed UTF-8 instead of ASN.1 DER (see there); `verify` checks it. Signatures are ECDSA on
brainpoolP256r1 over SHA-256 in plain r‖s form (BSI TR-03111 "ecdsa-plain-SHA256"), as certified TSEs use.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from tapzone.errors import InvalidRequest, NotFound
from tapzone.fiscal.signer import (
    SignedOperation,
    SignedTransaction,
    Signer,
    TransactionHandle,
    TseTransactionFinished,
    TseTransactionUnknown,
)
from tapzone.store.tables import tse_signers, tse_transactions, venues
from tapzone.store.uow import Tx

SIMULATOR_KIND = "simulator"
SIGNATURE_ALGORITHM = "ecdsa-plain-SHA256"
TIME_FORMAT = "unixTime"  # log times are whole seconds since the epoch, as many certified TSEs report them
LOG_MESSAGE_VERSION = "2"
# BSI TR-03151 object identifier of a transaction log message (the "certifiedDataType" field).
CERTIFIED_DATA_TYPE = "0.4.0.127.0.7.3.7.1.1"
_CURVE = ec.BrainpoolP256R1()
_COORDINATE_BYTES = 32  # brainpoolP256r1: r and s are 32 bytes each in the plain signature format
CLIENT_ID_MAX = 64  # tse_transactions.client_id
PROCESS_TYPE_MAX = 64  # tse_transactions.process_type


class Operation(StrEnum):
    START = "StartTransaction"
    UPDATE = "UpdateTransaction"
    FINISH = "FinishTransaction"


@dataclass(frozen=True, slots=True)
class SignerInfo:
    id: int
    serial: str
    kind: str
    signature_algorithm: str
    time_format: str
    public_key: str
    signature_counter: int
    transaction_counter: int
    open_transactions: int
    created_at: datetime


def log_message(
    *,
    operation: Operation,
    client_id: str,
    process_data: str,
    process_type: str,
    transaction_number: int,
    serial: str,
    signature_algorithm: str,
    signature_counter: int,
    log_time: datetime,
) -> bytes:
    """The bytes a signature covers.

    Fields in TR-03153 order: version, certifiedDataType, operationType, clientId, processData, processType,
    transactionNumber, serialNumber, signatureAlgorithm, signatureCounter, logTime (unix seconds). Each field is
    UTF-8 text (numbers in decimal) preceded by its byte length as a 4-byte big-endian integer, so no field can
    run into the next. Because this is not the ASN.1 DER of a real TSE, a TR-03153 TAR verifier cannot check
    these signatures; `verify` here can.
    """
    fields = [
        LOG_MESSAGE_VERSION,
        CERTIFIED_DATA_TYPE,
        operation.value,
        client_id,
        process_data,
        process_type,
        str(transaction_number),
        serial,
        signature_algorithm,
        str(signature_counter),
        str(_unix_seconds(log_time)),
    ]
    out = bytearray()
    for field in fields:
        encoded = field.encode("utf-8")
        out += len(encoded).to_bytes(4, "big") + encoded
    return bytes(out)


def verify(signed: SignedTransaction, public_key: str) -> bool:
    """Whether `signed` carries a valid finish signature under `public_key` (base64 X9.62 uncompressed point)."""
    message = log_message(
        operation=Operation.FINISH,
        client_id=signed.client_id,
        process_data=signed.process_data,
        process_type=signed.process_type,
        transaction_number=signed.transaction_number,
        serial=signed.tse_serial,
        signature_algorithm=signed.signature_algorithm,
        signature_counter=signed.signature_counter,
        log_time=signed.end,
    )
    try:
        point = base64.b64decode(public_key, validate=True)
        plain = base64.b64decode(signed.signature, validate=True)
        key = ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, point)
    except (ValueError, binascii.Error):
        return False
    if signed.signature_algorithm != SIGNATURE_ALGORITHM or len(plain) != 2 * _COORDINATE_BYTES:
        return False
    r = int.from_bytes(plain[:_COORDINATE_BYTES], "big")
    s = int.from_bytes(plain[_COORDINATE_BYTES:], "big")
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def ensure_signer(tx: Tx, venue_id: int, device_id: int | None = None) -> sa.Row[Any]:
    """The simulated TSE of a till (or the venue-wide one when no till is named), created with a fresh key
    pair on first use. One TSE per till: the signer row is locked until the booking commits, so a shared one
    would make every till of the venue queue behind it (DESIGN §4)."""
    row = _first_signer(tx, venue_id, device_id)
    if row is not None:
        return row
    # Two requests signing a till's first receipt at once must not create two TSEs. A till's own device row
    # serialises them: it is already held when a receipt is numbered, and the venue row is not in the lock
    # order after the device (`store.uow`), so a settings change holding it would close a cycle. The
    # venue-wide signer has no device and takes the venue row: FOR NO KEY UPDATE, not FOR UPDATE, because
    # every insert that references the venue takes a key-share lock on it.
    if device_id is not None:
        tx.lock_device(device_id)
    else:
        query = sa.select(venues.c.id).where(venues.c.id == venue_id)
        if tx.is_postgres:
            query = query.with_for_update(key_share=True)
        if tx.conn.execute(query).first() is None:
            raise NotFound(f"venue {venue_id} does not exist")
    row = _first_signer(tx, venue_id, device_id)
    if row is not None:
        return row
    private_key = ec.generate_private_key(_CURVE)
    point = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tx.conn.execute(
        tse_signers.insert().values(
            venue_id=venue_id,
            device_id=device_id,
            serial=hashlib.sha256(point).hexdigest(),
            kind=SIMULATOR_KIND,
            public_key=base64.b64encode(point).decode("ascii"),
            private_key=pem.decode("ascii"),
            signature_algorithm=SIGNATURE_ALGORITHM,
            signature_counter=0,
            transaction_counter=0,
            created_at=tx.now,
        )
    )
    created = _first_signer(tx, venue_id, device_id)
    assert created is not None
    return created


def signer_info(conn: sa.Connection, venue_id: int) -> list[SignerInfo]:
    """Serial, algorithm and counters of the venue's signers, oldest first (for `tapzone fiscal tse-info`)."""
    open_count = (
        sa.select(sa.func.count())
        .where(tse_transactions.c.signer_id == tse_signers.c.id, tse_transactions.c.state == "started")
        .scalar_subquery()
    )
    rows = conn.execute(
        sa.select(tse_signers, open_count.label("open_transactions"))
        .where(tse_signers.c.venue_id == venue_id)
        .order_by(tse_signers.c.id)
    ).all()
    return [
        SignerInfo(
            id=row.id,
            serial=row.serial,
            kind=row.kind,
            signature_algorithm=row.signature_algorithm,
            time_format=TIME_FORMAT,
            public_key=row.public_key,
            signature_counter=row.signature_counter,
            transaction_counter=row.transaction_counter,
            open_transactions=row.open_transactions,
            created_at=row.created_at,
        )
        for row in rows
    ]


class TseSimulator(Signer):
    """The `Signer` of one till (or of the venue, `device_id` None), backed by its `tse_signers` row
    (subclassing the port lets mypy check it)."""

    def __init__(self, venue_id: int, device_id: int | None = None) -> None:
        self.venue_id = venue_id
        self.device_id = device_id

    def start_transaction(
        self, tx: Tx, client_id: str, process_type: str = "", process_data: str = ""
    ) -> TransactionHandle:
        _check_client_id(client_id)
        _check_process_type(process_type)
        signer = self._lock_signer(tx)
        number = signer.transaction_counter + 1
        started = self._sign(tx, signer, Operation.START, client_id, process_type, process_data, number)
        transaction_id: int = tx.conn.execute(
            tse_transactions.insert()
            .values(
                venue_id=self.venue_id,
                signer_id=signer.id,
                number=number,
                client_id=client_id,
                state="started",
                process_type=process_type,
                process_data=process_data,
                started_at=started.log_time,
                updated_at=started.log_time,
                # While open, the row shows its latest operation's counter and signature; finish overwrites them.
                signature_counter=started.signature_counter,
                signature=started.signature,
            )
            .returning(tse_transactions.c.id)
        ).scalar_one()
        return TransactionHandle(
            signer_id=signer.id, transaction_id=transaction_id, number=number, client_id=client_id, started=started
        )

    def update_transaction(
        self, tx: Tx, handle: TransactionHandle, process_type: str, process_data: str
    ) -> SignedOperation:
        _check_process_type(process_type)
        signer = self._lock_signer(tx)
        row = self._open_transaction(tx, signer, handle)
        updated = self._sign(tx, signer, Operation.UPDATE, row.client_id, process_type, process_data, row.number)
        tx.conn.execute(
            tse_transactions.update()
            .where(tse_transactions.c.id == row.id)
            .values(
                process_type=process_type,
                process_data=process_data,
                updated_at=updated.log_time,
                signature_counter=updated.signature_counter,
                signature=updated.signature,
            )
        )
        return updated

    def finish_transaction(
        self, tx: Tx, handle: TransactionHandle, process_type: str, process_data: str
    ) -> SignedTransaction:
        _check_process_type(process_type)
        signer = self._lock_signer(tx)
        row = self._open_transaction(tx, signer, handle)
        finished = self._sign(tx, signer, Operation.FINISH, row.client_id, process_type, process_data, row.number)
        tx.conn.execute(
            tse_transactions.update()
            .where(tse_transactions.c.id == row.id)
            .values(
                state="finished",
                process_type=process_type,
                process_data=process_data,
                updated_at=finished.log_time,
                finished_at=finished.log_time,
                signature_counter=finished.signature_counter,
                signature=finished.signature,
            )
        )
        return SignedTransaction(
            transaction_id=row.id,
            tse_serial=signer.serial,
            signature_algorithm=signer.signature_algorithm,
            time_format=TIME_FORMAT,
            public_key=signer.public_key,
            client_id=row.client_id,
            transaction_number=row.number,
            signature_counter=finished.signature_counter,
            start=row.started_at,
            end=finished.log_time,
            process_type=process_type,
            process_data=process_data,
            signature=finished.signature,
        )

    def _lock_signer(self, tx: Tx) -> sa.Row[Any]:
        """The signer row, locked until the caller commits: all its operations queue here, one counter each."""
        signer = ensure_signer(tx, self.venue_id, self.device_id)
        return tx.lock_rows(tse_signers, [signer.id])[0]

    def _open_transaction(self, tx: Tx, signer: sa.Row[Any], handle: TransactionHandle) -> sa.Row[Any]:
        # The signer row lock already serialises every operation on its transactions; no second lock needed.
        row = tx.conn.execute(
            sa.select(tse_transactions).where(
                tse_transactions.c.id == handle.transaction_id, tse_transactions.c.signer_id == signer.id
            )
        ).first()
        if row is None or handle.signer_id != signer.id or row.number != handle.number:
            raise TseTransactionUnknown(f"TSE {signer.serial[:16]}… has no transaction {handle.number}")
        if row.state != "started":
            raise TseTransactionFinished(f"TSE transaction {row.number} is already finished")
        return row

    def _sign(
        self,
        tx: Tx,
        signer: sa.Row[Any],
        operation: Operation,
        client_id: str,
        process_type: str,
        process_data: str,
        number: int,
    ) -> SignedOperation:
        """Take the next signature counter, sign the log message and store the counters (and, on start, the
        transaction number) back into the locked signer row."""
        counter = signer.signature_counter + 1
        log_time = tx.now.astimezone(UTC).replace(microsecond=0)  # unixTime has whole seconds
        message = log_message(
            operation=operation,
            client_id=client_id,
            process_data=process_data,
            process_type=process_type,
            transaction_number=number,
            serial=signer.serial,
            signature_algorithm=signer.signature_algorithm,
            signature_counter=counter,
            log_time=log_time,
        )
        values: dict[str, int] = {"signature_counter": counter}
        if operation is Operation.START:
            values["transaction_counter"] = number
        tx.conn.execute(tse_signers.update().where(tse_signers.c.id == signer.id).values(**values))
        return SignedOperation(signature_counter=counter, log_time=log_time, signature=_sign_plain(signer, message))


def _sign_plain(signer: sa.Row[Any], message: bytes) -> str:
    if signer.private_key is None:
        raise InvalidRequest(f"TSE {signer.serial[:16]}… is not a simulator: it holds no private key here")
    key = serialization.load_pem_private_key(signer.private_key.encode("ascii"), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidRequest(f"TSE {signer.serial[:16]}… holds no elliptic-curve key")
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    plain = r.to_bytes(_COORDINATE_BYTES, "big") + s.to_bytes(_COORDINATE_BYTES, "big")
    return base64.b64encode(plain).decode("ascii")


def _first_signer(tx: Tx, venue_id: int, device_id: int | None) -> sa.Row[Any] | None:
    till = tse_signers.c.device_id.is_(None) if device_id is None else tse_signers.c.device_id == device_id
    return tx.conn.execute(
        sa.select(tse_signers)
        .where(tse_signers.c.venue_id == venue_id, tse_signers.c.kind == SIMULATOR_KIND, till)
        .order_by(tse_signers.c.id)
        .limit(1)
    ).first()


def _unix_seconds(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp())


def _check_client_id(client_id: str) -> None:
    # ';' separates the QR code's fields, so a till serial containing it would make the code unreadable.
    if not client_id or len(client_id) > CLIENT_ID_MAX or ";" in client_id:
        raise InvalidRequest(f"TSE client id must be 1–{CLIENT_ID_MAX} characters without ';', got {client_id!r}")


def _check_process_type(process_type: str) -> None:
    if len(process_type) > PROCESS_TYPE_MAX:
        raise InvalidRequest(f"TSE process type longer than {PROCESS_TYPE_MAX} characters")
