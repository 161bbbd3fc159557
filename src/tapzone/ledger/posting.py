"""Writing journal entries: postings plus their materialised balances, in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.ledger.model import AccountRef, EntryDraft
from tapzone.store.tables import account_balances, card_balances, journal_entries, ledger_accounts, postings
from tapzone.store.uow import Tx
from tapzone.venues.model import Venue

CARD_BUCKET = ""


def bucket_for(device_id: int, venue: Venue, tx: Tx) -> str:
    """Venue-wide accounts are split per till and business day so tills never share a hot balance row."""
    return f"d{device_id}:{venue.business_day(tx.now).isoformat()}"


def resolve_accounts(tx: Tx, venue_id: int, refs: set[AccountRef]) -> dict[AccountRef, int]:
    """Map account references to row ids, creating missing rows race-free (insert … on conflict do nothing)."""
    by_key = {ref.key: ref for ref in refs}
    found = _account_ids(tx, venue_id, list(by_key))
    missing = [by_key[key] for key in by_key if key not in found]
    if missing:
        tx.insert_ignore(
            ledger_accounts,
            [
                {
                    "venue_id": venue_id,
                    "key": ref.key,
                    "purpose": ref.purpose.value,
                    "kind": ref.kind.value,
                    "unit": ref.unit,
                    "card_account_id": ref.card_account_id,
                }
                for ref in sorted(missing)
            ],
            ["venue_id", "key"],
        )
        found = _account_ids(tx, venue_id, list(by_key))
    return {ref: found[key] for key, ref in by_key.items()}


def _account_ids(tx: Tx, venue_id: int, keys: list[str]) -> dict[str, int]:
    rows = tx.conn.execute(
        sa.select(ledger_accounts.c.key, ledger_accounts.c.id).where(
            ledger_accounts.c.venue_id == venue_id, ledger_accounts.c.key.in_(keys)
        )
    )
    return {row.key: row.id for row in rows}


def post_entry(tx: Tx, ctx: RequestContext, venue: Venue, draft: EntryDraft) -> int:
    """Append one balanced journal entry and update every balance it touches, in primary-key order."""
    draft.validated()
    account_ids = resolve_accounts(tx, venue.id, {line.account for line in draft.lines})
    venue_bucket = bucket_for(ctx.device_id, venue, tx)
    entry_id: int = tx.conn.execute(
        journal_entries.insert()
        .values(
            venue_id=venue.id,
            code=draft.code.value,
            device_id=ctx.device_id,
            operator_id=ctx.operator_id,
            idempotency_key=ctx.idempotency_key,
            effective_at=tx.now,
            business_day=venue.business_day(tx.now),
            corrects_entry_id=draft.corrects_entry_id,
            memo=draft.memo,
        )
        .returning(journal_entries.c.id)
    ).scalar_one()

    balance_deltas: dict[tuple[int, str], int] = defaultdict(int)
    card_deltas: dict[tuple[int, str], int] = defaultdict(int)
    rows = []
    for line in draft.lines:
        bucket = venue_bucket if line.account.bucketed else CARD_BUCKET
        account_id = account_ids[line.account]
        rows.append(
            {
                "venue_id": venue.id,
                "entry_id": entry_id,
                "account_id": account_id,
                "unit": line.unit,
                "bucket": bucket,
                "amount": line.amount,
            }
        )
        balance_deltas[(account_id, bucket)] += line.amount
        if line.account.card_account_id is not None:
            # Holder's view: a credit to the liability is value added to the card.
            card_deltas[(line.account.card_account_id, line.unit)] -= line.amount
    tx.conn.execute(postings.insert(), rows)
    for (account_id, bucket), delta in sorted(balance_deltas.items()):
        tx.upsert_add(
            account_balances,
            {"account_id": account_id, "bucket": bucket, "venue_id": venue.id},
            "balance",
            delta,
        )
    for (card_account_id, unit), delta in sorted(card_deltas.items()):
        tx.upsert_add(
            card_balances,
            {"card_account_id": card_account_id, "unit": unit, "venue_id": venue.id},
            "balance",
            delta,
        )
    return entry_id
