"""Writing journal entries: postings plus their materialised balances, in the caller's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa

from tapzone.context import RequestContext
from tapzone.ledger.chain import ChainedEntry, chain_head, sorted_postings, store_heads
from tapzone.ledger.float_totals import CardMovement, add_card_movements
from tapzone.ledger.model import CARD_BUCKET, AccountRef, EntryDraft
from tapzone.store.tables import account_balances, card_balances, journal_entries, ledger_accounts, postings
from tapzone.store.uow import Tx
from tapzone.venues.model import Venue


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
            ledger_accounts.c.venue_id == venue_id, tx.among(ledger_accounts.c.key, keys)
        )
    )
    return {row.key: row.id for row in rows}


def post_entry(tx: Tx, ctx: RequestContext, venue: Venue, draft: EntryDraft) -> int:
    """Append one balanced journal entry and update every balance it touches, in primary-key order."""
    draft.validated()
    tx.observe("booking", draft.code.value)
    account_ids = resolve_accounts(tx, venue.id, {line.account for line in draft.lines})
    venue_bucket = bucket_for(ctx.device_id, venue, tx)
    heads: dict[int, tuple[int, str]] = {}
    entry_id: int = tx.conn.execute(
        journal_entries.insert()
        .values(**_entry_row(tx, ctx, venue, draft, account_ids, heads))
        .returning(journal_entries.c.id)
    ).scalar_one()
    store_heads(tx, heads)

    balance_deltas: dict[tuple[int, str], int] = defaultdict(int)
    card_deltas: dict[tuple[int, str], int] = defaultdict(int)
    movements: list[CardMovement] = []
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
            movements.append(CardMovement(account_id, ctx.device_id, line.amount))
    _write(tx, venue.id, rows, balance_deltas, card_deltas, movements)
    return entry_id


def post_entries(tx: Tx, venue: Venue, drafts: Sequence[tuple[RequestContext, EntryDraft]]) -> list[int]:
    """Append many balanced entries at once, for batch jobs; returns their ids in the order given.

    The rows are the ones `post_entry` would write entry by entry, but an account is looked up once, each
    table gets one insert and each balance row one upsert however many entries touch it: a batch of 500
    renewal fees costs a handful of statements instead of thousands.
    """
    if not drafts:
        return []
    for _, draft in drafts:
        draft.validated()
        tx.observe("booking", draft.code.value)
    account_ids = resolve_accounts(tx, venue.id, {line.account for _, draft in drafts for line in draft.lines})
    heads: dict[int, tuple[int, str]] = {}
    entry_ids: list[int] = list(
        tx.conn.execute(
            journal_entries.insert().returning(journal_entries.c.id, sort_by_parameter_order=True),
            [_entry_row(tx, ctx, venue, draft, account_ids, heads) for ctx, draft in drafts],
        ).scalars()
    )
    store_heads(tx, heads)  # once per device, not per entry
    balance_deltas: dict[tuple[int, str], int] = defaultdict(int)
    card_deltas: dict[tuple[int, str], int] = defaultdict(int)
    movements: list[CardMovement] = []
    rows = []
    for entry_id, (ctx, draft) in zip(entry_ids, drafts, strict=True):
        venue_bucket = bucket_for(ctx.device_id, venue, tx)
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
                card_deltas[(line.account.card_account_id, line.unit)] -= line.amount
                movements.append(CardMovement(account_id, ctx.device_id, line.amount))
    _write(tx, venue.id, rows, balance_deltas, card_deltas, movements)
    return entry_ids


def _entry_row(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    draft: EntryDraft,
    account_ids: dict[AccountRef, int],
    heads: dict[int, tuple[int, str]],
) -> dict[str, object]:
    """The journal row of `draft`, linked into its device's hash chain; `heads` carries each device's chain
    head from one entry of a batch to the next, and the caller stores it on the device (`store_heads`)."""
    if ctx.device_id not in heads:
        heads[ctx.device_id] = chain_head(tx, ctx.device_id)
    seq, prev_hash = heads[ctx.device_id]
    chained = ChainedEntry(
        venue_id=venue.id,
        device_id=ctx.device_id,
        device_seq=seq + 1,
        code=draft.code.value,
        operator_id=ctx.operator_id,
        effective_at=tx.now,
        business_day=venue.business_day(tx.now),
        corrects_entry_id=draft.corrects_entry_id,
        memo=draft.memo,
        postings=sorted_postings((account_ids[line.account], line.unit, line.amount) for line in draft.lines),
    )
    digest = chained.digest(prev_hash)
    heads[ctx.device_id] = (seq + 1, digest)
    return {
        "venue_id": venue.id,
        "code": chained.code,
        "device_id": ctx.device_id,
        "operator_id": ctx.operator_id,
        "idempotency_key": ctx.idempotency_key,
        "effective_at": chained.effective_at,
        "business_day": chained.business_day,
        "corrects_entry_id": draft.corrects_entry_id,
        "memo": draft.memo,
        "device_seq": chained.device_seq,
        "prev_hash": prev_hash,
        "hash": digest,
    }


def _write(
    tx: Tx,
    venue_id: int,
    rows: list[dict[str, object]],
    balance_deltas: dict[tuple[int, str], int],
    card_deltas: dict[tuple[int, str], int],
    movements: list[CardMovement],
) -> None:
    """Insert the postings, then add them to the balances and to the card float's totals."""
    tx.conn.execute(postings.insert(), rows)
    after = _add_to_balances(
        tx,
        account_balances,
        ["account_id", "bucket"],
        [
            {"account_id": a, "bucket": b, "venue_id": venue_id, "balance": d}
            for (a, b), d in sorted(balance_deltas.items())
        ],
    )
    # Whether a card account turned zero or non-zero is judged from the balance this very upsert left, which
    # holds the row's lock until commit: exact even when two tills book on one card at once.
    add_card_movements(tx, venue_id, movements, {a: balance for (a, b), balance in after.items() if b == CARD_BUCKET})
    _add_to_balances(
        tx,
        card_balances,
        ["card_account_id", "unit"],
        [
            {"card_account_id": c, "unit": u, "venue_id": venue_id, "balance": d}
            for (c, u), d in sorted(card_deltas.items())
        ],
    )


def _add_to_balances(
    tx: Tx, table: sa.Table, keys: list[str], rows: list[dict[str, object]]
) -> dict[tuple[int, str], int]:
    """Insert balance rows or add to them, in the order given (key order, DESIGN §4), and return each row's
    balance after the addition.
    Given as a parameter list, SQLAlchemy sends them as a few multi-row statements; each key appears once,
    as an upsert may not touch a row twice."""
    if not rows:
        return {}
    statement = tx.insert_for(table)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c[name] for name in keys],
        set_={"balance": table.c.balance + statement.excluded.balance},
    ).returning(*(table.c[name] for name in keys), table.c.balance)
    return {(row[0], row[1]): int(row[2]) for row in tx.conn.execute(statement, rows)}
