"""Using a service (seed 002): a sunbed, sauna or fitness area switched on with a card account.

The caller is a till (staff with `resource.start`), a kiosk, or the resource itself. The card account is
locked, the pure `decide_usage` answers, and an allowed session is charged in the same transaction: money
(then bonus) as usage revenue, visits or minutes as counted units, or a tab line where the type allows
paying without a top-up. Each use tops up the linked discount card.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.access.visits import open_card_account
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import InvalidRequest, NotFound, PermissionDenied
from tapzone.fiscal.profiles import book_advance_released
from tapzone.i18n import gettext
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, card_units, units_issued
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import BoundCard, bound_card, find_medium
from tapzone.money import CountUnit
from tapzone.plans.account_types import AccountType
from tapzone.plans.selling import apply_validity, typed_account_view
from tapzone.plans.specs import TypedAccountView
from tapzone.plans.topup_rules import increments_for
from tapzone.plans.type_store import account_balances_of, load_account_type
from tapzone.plans.usage import USAGE_TEXTS, PaidWith, Usage, UsageFacts, decide_usage
from tapzone.pos.booking import credit_revenue
from tapzone.pos.tab_store import ensure_open_tab
from tapzone.pos.vat import split_by_rate
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import (
    card_accounts,
    customers,
    devices,
    fingerprint_matches,
    products,
    resource_sessions,
    resources,
    skin_types,
    tab_lines,
    visits,
)
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import DeviceKind, Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise_unattended

# A fingerprint match confirms the holder for the session that follows, not for the rest of the day.
FINGERPRINT_MATCH_VALID = timedelta(minutes=2)
MAX_REQUESTED_MINUTES = 1440
RESOURCE_GROUP = "resource-usage"


class SessionView(BaseModel):
    resource_id: int
    medium_uid: str
    card_account_id: int | None
    allowed: bool
    reason: str
    display_text: str
    requested_minutes: int
    allowed_minutes: int
    max_minutes: int
    halved: bool
    price_minor: int
    paid_with: str | None
    charged: dict[str, int]
    unlock_at: datetime | None
    session_id: int | None
    account: TypedAccountView | None


class FingerprintView(BaseModel):
    medium_uid: str
    confirmed_until: datetime


def _caller_kind(tx: Tx, ctx: RequestContext, resource_id: int) -> tuple[Venue, bool]:
    """The venue, and whether the caller is a kiosk (unattended). Staff at a till need `resource.start`;
    a kiosk and the resource itself act without staff."""
    unattended = frozenset({DeviceKind.KIOSK.value, DeviceKind.RESOURCE.value})
    venue, kind = authorise_unattended(tx, ctx, unattended, Permission.RESOURCE_START)
    if kind == DeviceKind.RESOURCE.value and ctx.device_id != resource_id:
        raise PermissionDenied("a resource may only start its own sessions")
    return venue, kind == DeviceKind.KIOSK.value


def _resource(tx: Tx, venue_id: int, resource_id: int) -> sa.Row[Any]:
    row = tx.conn.execute(
        sa.select(resources, products.c.name, products.c.vat_rate_bp)
        .join(products, products.c.id == resources.c.product_id)
        .where(resources.c.device_id == resource_id, resources.c.venue_id == venue_id)
    ).first()
    if row is None:
        raise NotFound(f"resource {resource_id} does not exist in this venue")
    return row


def _skin_type_max(tx: Tx, venue_id: int, customer_id: int | None) -> int | None:
    if customer_id is None:
        return None
    value: int | None = tx.conn.execute(
        sa.select(skin_types.c.max_minutes)
        .select_from(
            customers.join(
                skin_types,
                sa.and_(skin_types.c.venue_id == customers.c.venue_id, skin_types.c.skin_type == customers.c.skin_type),
            )
        )
        .where(customers.c.id == customer_id)
    ).scalar_one_or_none()
    return value


def _fingerprint_confirmed(tx: Tx, medium_id: int) -> bool:
    return (
        tx.conn.execute(
            sa.select(fingerprint_matches.c.id).where(
                fingerprint_matches.c.medium_id == medium_id,
                fingerprint_matches.c.matched_at >= tx.now - FINGERPRINT_MATCH_VALID,
            )
        ).first()
        is not None
    )


def _book_usage(
    tx: Tx, ctx: RequestContext, venue: Venue, account_id: int, usage: Usage, resource: sa.Row[Any]
) -> int | None:
    """The usage entry: money used is revenue at the resource product's rate; units are consumed."""
    draft = EntryDraft(EntryCode.USAGE, memo=f"{resource.name}, {usage.minutes} min")
    if usage.money_minor:
        draft.debit(card_money(account_id, venue.currency), usage.money_minor)
        credit_revenue(draft, venue, split_by_rate([(usage.money_minor, resource.vat_rate_bp)]))
        book_advance_released(draft, venue, usage.money_minor)
    for unit, amount in (
        (CountUnit.BONUS, usage.bonus),
        (CountUnit.VISITS, usage.visits),
        (CountUnit.MINUTES, usage.minutes_charged),
    ):
        draft.debit(card_units(account_id, unit), amount).credit(units_issued(unit), amount)
    if not draft.lines:
        return None
    return post_entry(tx, ctx, venue, draft)


def _put_on_tab(tx: Tx, ctx: RequestContext, venue: Venue, account_id: int, usage: Usage, resource: sa.Row[Any]) -> int:
    """Pay without top-up (seed 002): the session is paid at the counter like a registered cash customer."""
    tab_id = ensure_open_tab(tx, venue.id, account_id)
    line_id: int = tx.conn.execute(
        tab_lines.insert()
        .values(
            venue_id=venue.id,
            tab_id=tab_id,
            product_id=resource.product_id,
            name=f"{resource.name} {usage.minutes} min",
            quantity=1,
            unit_price_minor=usage.price_minor,
            amount_minor=usage.price_minor,
            vat_rate_bp=resource.vat_rate_bp,
            product_group=RESOURCE_GROUP,
            state="open",
            device_id=ctx.device_id,
            operator_id=ctx.operator_id,
            created_at=tx.now,
        )
        .returning(tab_lines.c.id)
    ).scalar_one()
    return line_id


def _top_up_discount_card(
    tx: Tx, ctx: RequestContext, venue: Venue, card: BoundCard, kind: AccountType, price: int
) -> None:
    """seed 002 "Rabattkarte": every use tops up the linked discount card on the same medium with what its
    rule gives for the price, in bonus, minutes, visits or validity. Money is never created this way."""
    if kind.discount_type_id is None or price <= 0:
        return
    discount = load_account_type(tx, venue.id, kind.discount_type_id)
    try:
        inc = increments_for(discount.rule, price)
    except InvalidRequest:  # a price list without this price gives nothing
        return
    account_id = tx.conn.execute(
        sa.select(card_accounts.c.id).where(
            card_accounts.c.visit_id == card.visit_id,
            card_accounts.c.account_type_id == discount.id,
            card_accounts.c.closed_at.is_(None),
        )
    ).scalar_one_or_none()
    if account_id is None:
        account_id = open_card_account(
            tx,
            venue,
            visit_id=card.visit_id,
            medium_id=card.medium_id,
            credit_type=discount.credit_type,
            limit_minor=0,
            is_active=False,
        )
        tx.conn.execute(
            card_accounts.update().where(card_accounts.c.id == account_id).values(account_type_id=discount.id)
        )
    else:
        tx.lock_rows(card_accounts, [account_id])
    before = account_balances_of(tx, account_id, venue.currency)
    draft = EntryDraft(EntryCode.BONUS, memo=f"{discount.name} for a use of {kind.name}")
    for unit, amount in (
        (CountUnit.BONUS, inc.bonus),
        (CountUnit.MINUTES, inc.minutes),
        (CountUnit.VISITS, inc.visits),
    ):
        draft.debit(units_issued(unit), amount).credit(card_units(account_id, unit), amount)
    if draft.lines:
        post_entry(tx, ctx, venue, draft)
    apply_validity(tx, account_id, before, before.after(inc, venue.business_day(tx.now)))


def start_session(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    resource_id: int,
    medium_uid: str,
    minutes: int,
    card_account_id: int | None = None,
    entry: MediumEntry = MediumEntry.READER,
) -> SessionView:
    """May this medium use the resource now, for how long, at what price; charge it if so."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_REQUESTED_MINUTES:
        raise InvalidRequest(f"minutes must be an integer 1..{MAX_REQUESTED_MINUTES}")
    payload = {
        "resource_id": resource_id,
        "medium_uid": medium_uid,
        "minutes": minutes,
        "card_account_id": card_account_id,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> SessionView:
        venue, from_kiosk = _caller_kind(tx, ctx, resource_id)
        resource = _resource(tx, venue.id, resource_id)
        card = bound_card(tx, ctx, medium_uid, entry, card_account_id)
        account = card.account
        kind = load_account_type(tx, venue.id, account.account_type_id) if account.account_type_id else None
        usage = decide_usage(
            UsageFacts(
                account_type=kind,
                resource_id=resource_id,
                resource_max_minutes=resource.max_minutes,
                requested_minutes=minutes,
                now=tx.now,
                tz=ZoneInfo(venue.timezone),
                balances=account_balances_of(tx, account.id, venue.currency),
                last_used_at=account.last_used_at,
                from_kiosk=from_kiosk,
                fingerprint_confirmed=_fingerprint_confirmed(tx, card.medium_id),
                skin_type_max_minutes=_skin_type_max(tx, venue.id, card.customer_id),
            )
        )
        session_id = None
        if usage.denial is not None:
            tx.observe("resource_denial", usage.denial.value)
        if usage.allowed:
            assert kind is not None
            session_id = _record_session(tx, ctx, venue, card, kind, usage, resource)
        return SessionView(
            resource_id=resource_id,
            medium_uid=card.medium_uid,
            card_account_id=account.id,
            allowed=usage.allowed,
            reason=usage.denial.value if usage.denial else "ok",
            display_text=gettext(USAGE_TEXTS[usage.denial], venue.language),
            requested_minutes=minutes,
            allowed_minutes=usage.minutes,
            max_minutes=usage.max_minutes,
            halved=usage.halved,
            price_minor=usage.price_minor,
            paid_with=usage.paid_with.value if usage.paid_with else None,
            charged=_charged(usage, venue.currency),
            unlock_at=usage.unlock_at,
            session_id=session_id,
            account=typed_account_view(tx, venue, account.id),
        )

    return run_idempotent(uow, ctx, "start_session", payload, handler, SessionView)


def _charged(usage: Usage, currency: str) -> dict[str, int]:
    charged = {
        currency: usage.money_minor,
        CountUnit.BONUS.value: usage.bonus,
        CountUnit.VISITS.value: usage.visits,
        CountUnit.MINUTES.value: usage.minutes_charged,
    }
    if usage.paid_with is PaidWith.TAB:
        charged["tab"] = usage.price_minor
    return {unit: amount for unit, amount in charged.items() if amount}


def _record_session(
    tx: Tx, ctx: RequestContext, venue: Venue, card: BoundCard, kind: AccountType, usage: Usage, resource: sa.Row[Any]
) -> int:
    account_id = card.account.id
    entry_id = _book_usage(tx, ctx, venue, account_id, usage, resource)
    line_id = _put_on_tab(tx, ctx, venue, account_id, usage, resource) if usage.paid_with is PaidWith.TAB else None
    _top_up_discount_card(tx, ctx, venue, card, kind, usage.price_minor)
    tx.conn.execute(card_accounts.update().where(card_accounts.c.id == account_id).values(last_used_at=tx.now))
    assert usage.paid_with is not None
    session_id: int = tx.conn.execute(
        resource_sessions.insert()
        .values(
            venue_id=venue.id,
            resource_id=resource.device_id,
            card_account_id=account_id,
            requested_by_device_id=ctx.device_id,
            started_at=tx.now,
            minutes=usage.minutes,
            price_minor=usage.price_minor,
            paid_with=usage.paid_with.value,
            entry_id=entry_id,
            tab_line_id=line_id,
        )
        .returning(resource_sessions.c.id)
    ).scalar_one()
    return session_id


def confirm_fingerprint(uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str) -> FingerprintView:
    """A fingerprint reader reports that the finger on it matches the medium's owner (seed 002
    "Fingerabdruck prüfen"). Only a device registered as a fingerprint reader can confirm."""
    payload = {"medium_uid": medium_uid}

    def handler(tx: Tx) -> FingerprintView:
        kind = tx.conn.execute(
            sa.select(devices.c.kind).where(devices.c.id == ctx.device_id, devices.c.venue_id == ctx.venue_id)
        ).scalar_one_or_none()
        if kind != DeviceKind.FINGERPRINT_READER.value:
            raise PermissionDenied("only a registered fingerprint reader can confirm a match")
        medium = find_medium(tx, ctx.venue_id, medium_uid)
        if medium is None:
            raise NotFound("unknown medium")
        bound = tx.conn.execute(
            sa.select(visits.c.id).where(visits.c.medium_id == medium.id, visits.c.closed_at.is_(None))
        ).first()
        if bound is None:
            raise NotFound("this medium is not bound to a customer")
        tx.conn.execute(
            fingerprint_matches.insert().values(
                venue_id=ctx.venue_id, medium_id=medium.id, reader_id=ctx.device_id, matched_at=tx.now
            )
        )
        return FingerprintView(medium_uid=medium.uid, confirmed_until=tx.now + FINGERPRINT_MATCH_VALID)

    return run_idempotent(uow, ctx, "confirm_fingerprint", payload, handler, FingerprintView)
