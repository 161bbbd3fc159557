"""SEPA payout batches: export every requested bank payout of a venue as one pain.001 file, fetch the file
again, and record the bank's confirmation.

Exporting moves no money in the ledger: the file is an order to the bank, and until the bank has carried it
out the venue still owes each visitor their payout (`payouts-due`). Marking the batch paid books that debt
against the bank account in one `payout` entry.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence

import sqlalchemy as sa

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import Conflict, InvalidRequest, NothingToExport
from tapzone.i18n import gettext
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, bank, payouts_due
from tapzone.ledger.posting import post_entry
from tapzone.payouts.model import BankAccount, PayoutMethod, PayoutState, bank_account, check_sepa_currency
from tapzone.payouts.sepa import CreditTransferBatch, Transfer, pain001, schema_errors
from tapzone.payouts.store import BatchView, batch_row, batch_view
from tapzone.plans.daily_store import system_device
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import payout_batches, payouts
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise, load_venue

MAX_PAYOUT_IDS = 10_000


def end_to_end_id(payout_id: int) -> str:
    """What the bank hands back with the transfer and the visitor sees on the statement."""
    return f"TZ-PAYOUT-{payout_id}"


def _message_id(venue: Venue, tx: Tx) -> str:
    # Random, not a counter: a database restored from a backup would count again from an older number, and
    # a bank refuses a file whose message id it has seen before. At most 35 characters (Max35Text).
    return f"TZ{venue.id}-{tx.now:%Y%m%d%H%M%S}-{secrets.token_hex(4).upper()}"


def _export(tx: Tx, ctx: RequestContext, venue: Venue, debtor: BankAccount) -> BatchView:
    check_sepa_currency(venue.currency)
    waiting = list(
        tx.conn.execute(
            sa.select(payouts.c.id).where(
                payouts.c.venue_id == venue.id,
                payouts.c.method == PayoutMethod.BANK.value,
                payouts.c.state == PayoutState.REQUESTED.value,
                payouts.c.currency == venue.currency,
            )
        ).scalars()
    )
    # Locked in key order, then checked again: a revoke that committed meanwhile has taken its payout out.
    rows = [row for row in tx.lock_rows(payouts, waiting) if row.state == PayoutState.REQUESTED.value]
    if not rows:
        raise NothingToExport("no bank payouts are waiting for export")
    remittance = f"{gettext('Payout of leftover card value', venue.language)} {venue.name}"
    batch = CreditTransferBatch(
        message_id=_message_id(venue, tx),
        created_at=tx.now,
        execution_date=venue.business_day(tx.now),
        debtor=debtor,
        currency=venue.currency,
        transfers=tuple(
            Transfer(
                end_to_end_id=end_to_end_id(row.id),
                amount_minor=row.amount_minor,
                creditor=BankAccount(holder=row.account_holder, iban=row.iban, bic=row.bic),
                remittance=remittance,
            )
            for row in rows
        ),
    )
    document = pain001(batch)
    errors = schema_errors(document)
    if errors:  # a bug here, never the caller's input: keep the payouts waiting rather than mark a bad file
        raise RuntimeError(f"the {len(rows)}-payout SEPA file does not validate against pain.001: {errors[0]}")
    batch_id: int = tx.conn.execute(
        payout_batches.insert()
        .values(
            venue_id=venue.id,
            message_id=batch.message_id,
            created_at=tx.now,
            count=len(rows),
            total_minor=batch.total_minor,
            xml=document,
        )
        .returning(payout_batches.c.id)
    ).scalar_one()
    tx.conn.execute(
        payouts.update()
        .where(payouts.c.id.in_([row.id for row in rows]))
        .values(state=PayoutState.EXPORTED.value, batch_id=batch_id)
    )
    audit.record(
        tx,
        ctx,
        "payout.export",
        f"payout-batch:{batch_id}",
        {"message_id": batch.message_id, "count": len(rows), "total_minor": batch.total_minor},
    )
    return batch_view(tx, batch_row(tx, venue.id, batch_id), venue.currency)


def export_payouts(
    uow: UnitOfWork, ctx: RequestContext, *, debtor_name: str, debtor_iban: str, debtor_bic: str | None = None
) -> BatchView:
    """Put every requested bank payout of the venue into one SEPA credit transfer file (pain.001.001.09)
    paid from the venue's account, store it and mark the payouts exported; they can no longer be revoked.
    Refused when nothing is waiting. The venue's own bank details are given here: the file is made for the
    account the money leaves from, which the operator picks per export."""
    debtor = bank_account(debtor_name, debtor_iban, debtor_bic)
    payload = {"debtor_name": debtor.holder, "debtor_iban": debtor.iban, "debtor_bic": debtor.bic}

    def handler(tx: Tx) -> BatchView:
        venue = authorise(tx, ctx, Permission.PAYOUT_MANAGE)
        return _export(tx, ctx, venue, debtor)

    return run_idempotent(uow, ctx, "export_payouts", payload, handler, BatchView)


def export_payouts_unattended(
    uow: UnitOfWork, venue_id: int, *, debtor_name: str, debtor_iban: str, debtor_bic: str | None = None
) -> BatchView:
    """`export_payouts` for the command line, which runs with the database's own rights: booked and audited
    on the venue's system device. A rerun after a finished export finds nothing waiting and says so."""
    debtor = bank_account(debtor_name, debtor_iban, debtor_bic)
    with uow.transaction() as tx:
        venue = load_venue(tx, venue_id)
        ctx = RequestContext(venue.id, system_device(tx, venue.id), None, f"cli-{uuid.uuid4().hex}")
        return _export(tx, ctx, venue, debtor)


def mark_batch_paid(
    uow: UnitOfWork, ctx: RequestContext, *, batch_id: int, payout_ids: Sequence[int] | None = None
) -> BatchView:
    """Record that the bank carried out the batch's transfers (all of them, or the ones named when the bank
    rejected some): their debt to the visitors is paid from the bank account. A transfer left out stays
    exported and owed."""
    if payout_ids is not None and not 1 <= len(payout_ids) <= MAX_PAYOUT_IDS:
        raise InvalidRequest(f"name 1..{MAX_PAYOUT_IDS} payouts, or none for the whole batch")
    payload = {"batch_id": batch_id, "payout_ids": sorted(set(payout_ids)) if payout_ids is not None else None}

    def handler(tx: Tx) -> BatchView:
        venue = authorise(tx, ctx, Permission.PAYOUT_MANAGE)
        batch = batch_row(tx, venue.id, batch_id)
        members = list(tx.conn.execute(sa.select(payouts.c.id).where(payouts.c.batch_id == batch.id)).scalars())
        if payout_ids is not None:
            strangers = sorted(set(payout_ids) - set(members))
            if strangers:
                raise InvalidRequest(f"payout {strangers[0]} is not in batch {batch_id}")
        wanted = set(members if payout_ids is None else payout_ids)
        rows = [
            row
            for row in tx.lock_rows(payouts, sorted(wanted))
            if row.state == PayoutState.EXPORTED.value and row.id in wanted
        ]
        if not rows:
            raise Conflict(f"the payouts of batch {batch_id} named here are already marked paid")
        total = sum(row.amount_minor for row in rows)
        draft = EntryDraft(EntryCode.PAYOUT, memo=f"bank paid {len(rows)} payout(s) of batch {batch.message_id}")
        for row in rows:
            draft.debit(payouts_due(row.id, row.currency), row.amount_minor)
        draft.credit(bank(venue.currency), total)
        entry_id = post_entry(tx, ctx, venue, draft)
        tx.conn.execute(
            payouts.update()
            .where(payouts.c.id.in_([row.id for row in rows]))
            .values(state=PayoutState.PAID.value, resolved_at=tx.now)
        )
        audit.record(
            tx,
            ctx,
            "payout.paid",
            f"payout-batch:{batch_id}",
            {"payout_ids": [row.id for row in rows], "total_minor": total, "entry_id": entry_id},
        )
        return batch_view(tx, batch, venue.currency)

    return run_idempotent(uow, ctx, "mark_batch_paid", payload, handler, BatchView)


def view_batch(uow: UnitOfWork, ctx: RequestContext, *, batch_id: int) -> BatchView:
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.PAYOUT_MANAGE)
        return batch_view(tx, batch_row(tx, venue.id, batch_id), venue.currency)


def batch_document(uow: UnitOfWork, ctx: RequestContext, *, batch_id: int) -> tuple[str, str]:
    """The stored SEPA file of a batch, exactly as exported, with its message id (for the file name)."""
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.PAYOUT_MANAGE)
        batch = batch_row(tx, venue.id, batch_id)
        return batch.message_id, batch.xml


def batch_document_unattended(uow: UnitOfWork, venue_id: int, *, batch_id: int) -> tuple[str, str]:
    with uow.transaction() as tx:
        batch = batch_row(tx, load_venue(tx, venue_id).id, batch_id)
        return batch.message_id, batch.xml
