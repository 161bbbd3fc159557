"""Finding a medium and the card account it pays with, refusing media that may not be used.

A device's lookups by number are limited here (`media/lookup_limits.py`): `lookup_medium`, `usable_medium` and
`bound_card` refuse with 429 while the device's failed lookups are used up, and count each unknown answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tapzone import audit
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import (
    InvalidRequest,
    MediumNotBound,
    NotFound,
    TapzoneError,
    UnknownMedium,
    UnknownOrInactiveMedium,
)
from tapzone.media.lookup_limits import count_failed_lookup, refuse_if_used_up
from tapzone.media.model import MediumState, normalise_uid, refusal_for_state, unknown_medium
from tapzone.plans.card_store import CardAccount, lock_card_accounts
from tapzone.store.tables import card_accounts, media, visits
from tapzone.store.uow import Tx
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


@dataclass(frozen=True, slots=True)
class BoundCard:
    medium_id: int
    medium_uid: str
    visit_id: int
    customer_id: int | None
    account: CardAccount
    party_id: int | None = None


def require_entry_permission(tx: Tx, ctx: RequestContext, entry: MediumEntry, uid: str) -> None:
    """Typing a number by hand needs its own permission and is audited (seed 004: QR cards, DESIGN §5)."""
    if entry is MediumEntry.TYPED:
        authorise(tx, ctx, Permission.MEDIUM_MANUAL_ENTRY)
        audit.record(tx, ctx, "medium.manual_entry", f"medium:{uid}", {})


QR_PREFIX = "TZQ-"


def medium_match(venue_id: int, uid: str) -> sa.ColumnElement[bool]:
    """The medium a reader read: by its number, or by the token of a scanned QR code (`TZQ-<token>`), so a
    regenerated code's old print matches nothing (seed 004)."""
    normalised = normalise_uid(uid)
    if normalised.startswith(QR_PREFIX):
        return sa.and_(media.c.venue_id == venue_id, media.c.qr_token == normalised[len(QR_PREFIX) :])
    return sa.and_(media.c.venue_id == venue_id, media.c.uid == normalised)


def find_medium(tx: Tx, venue_id: int, uid: str) -> sa.Row[Any] | None:
    return tx.conn.execute(sa.select(media).where(medium_match(venue_id, uid))).first()


def lookup_medium(tx: Tx, ctx: RequestContext, uid: str) -> sa.Row[Any] | None:
    """`find_medium` for a number the calling device sent: refused with 429 while its failed lookups are used
    up. A caller that answers the miss as unknown raises `failed_lookup(...)`."""
    refuse_if_used_up(tx, ctx.device_id)
    return find_medium(tx, ctx.venue_id, uid)


def failed_lookup(tx: Tx, ctx: RequestContext, error: TapzoneError) -> TapzoneError:
    """`error`, to raise; an unknown-medium answer is counted against the device's limit first."""
    if isinstance(error, (UnknownMedium, UnknownOrInactiveMedium)):
        count_failed_lookup(tx, ctx.device_id)
    return error


def usable_medium(tx: Tx, ctx: RequestContext, uid: str, entry: MediumEntry) -> sa.Row[Any]:
    require_entry_permission(tx, ctx, entry, uid)
    row = lookup_medium(tx, ctx, uid)
    if row is None:
        raise failed_lookup(tx, ctx, unknown_medium(entry))
    refusal = refusal_for_state(MediumState(row.state), entry)
    if refusal is not None:
        raise failed_lookup(tx, ctx, refusal)
    return row


def bound_card(
    tx: Tx,
    ctx: RequestContext,
    uid: str,
    entry: MediumEntry,
    card_account_id: int | None = None,
) -> BoundCard:
    """The medium's open visit and the card account to use (the active one unless another is named),
    locked for the rest of the transaction."""
    require_entry_permission(tx, ctx, entry, uid)
    refuse_if_used_up(tx, ctx.device_id)
    # One round trip for medium, open visit and the chosen card account: this runs on every till action.
    account_match = sa.and_(
        card_accounts.c.visit_id == visits.c.id,
        card_accounts.c.closed_at.is_(None),
        card_accounts.c.is_active.is_(True) if card_account_id is None else card_accounts.c.id == card_account_id,
    )
    row = tx.conn.execute(
        sa.select(
            media.c.id,
            media.c.uid,
            media.c.state,
            visits.c.id.label("visit_id"),
            visits.c.customer_id,
            visits.c.party_id,
            card_accounts.c.id.label("account_id"),
        )
        .select_from(
            media.outerjoin(visits, sa.and_(visits.c.medium_id == media.c.id, visits.c.closed_at.is_(None))).outerjoin(
                card_accounts, account_match
            )
        )
        .where(medium_match(ctx.venue_id, uid))
    ).first()
    if row is None:
        raise failed_lookup(tx, ctx, unknown_medium(entry))
    refusal = refusal_for_state(MediumState(row.state), entry)
    if refusal is not None:
        raise failed_lookup(tx, ctx, refusal)
    if row.visit_id is None:
        error: TapzoneError = (
            unknown_medium(entry) if entry is MediumEntry.TYPED else MediumNotBound("this medium has no open visit")
        )
        raise failed_lookup(tx, ctx, error)
    account_id = row.account_id
    if account_id is None:
        if card_account_id is not None:
            raise NotFound("this card account is not open on the medium")
        raise InvalidRequest("the medium has no active card account")
    (account,) = lock_card_accounts(tx, [account_id])
    if account.closed:
        # Closed by a request that committed while we waited for the lock: an exit or a return (the medium is
        # back in stock) or a lost-card transfer (the medium is blocked for good). Say what the medium is now,
        # as a read after that commit would have.
        state = tx.conn.execute(sa.select(media.c.state).where(media.c.id == row.id)).scalar_one()
        now_refused = refusal_for_state(MediumState(state), entry)
        raise failed_lookup(tx, ctx, now_refused or MediumNotBound("this card account was closed meanwhile"))
    return BoundCard(
        medium_id=row.id,
        medium_uid=row.uid,
        visit_id=row.visit_id,
        customer_id=row.customer_id,
        account=account,
        party_id=row.party_id,
    )
