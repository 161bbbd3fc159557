"""Venue and till settings that change behaviour at the till and the gate (audited, admin only)."""

from __future__ import annotations

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest, NotFound
from tapzone.money import check_non_negative_amount
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import devices, venues
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import SUPPORTED_LANGUAGES, DeviceKind
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


class VenueSettingsView(BaseModel):
    auto_unbind: bool
    pay_with_medium: bool
    member_debt_on_medium: bool


class TillPaymentView(BaseModel):
    device_id: int
    pay_with_medium: bool | None  # None: follows the venue
    effective: bool


def update_venue_settings(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    auto_unbind: bool | None = None,
    pay_with_medium: bool | None = None,
    member_debt_on_medium: bool | None = None,
) -> VenueSettingsView:
    """auto_unbind: unbind media at the exit gate (DESIGN §7, on by default). pay_with_medium: buying with
    the medium at the tills (seed 001 activation). member_debt_on_medium: registered customers carry their
    debt on the wristband instead of the customer account (seed 001 usePaymentKeyForPerson)."""
    changes = {
        name: value
        for name, value in (
            ("auto_unbind", auto_unbind),
            ("pay_with_medium", pay_with_medium),
            ("member_debt_on_medium", member_debt_on_medium),
        )
        if value is not None
    }
    if not changes or any(not isinstance(value, bool) for value in changes.values()):
        raise InvalidRequest("give auto_unbind, pay_with_medium and/or member_debt_on_medium as true or false")

    def handler(tx: Tx) -> VenueSettingsView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        tx.conn.execute(venues.update().where(venues.c.id == ctx.venue_id).values(**changes))
        audit.record(tx, ctx, "venue.settings", f"venue:{ctx.venue_id}", changes)
        row = tx.conn.execute(
            sa.select(venues.c.auto_unbind, venues.c.pay_with_medium, venues.c.member_debt_on_medium).where(
                venues.c.id == ctx.venue_id
            )
        ).one()
        return VenueSettingsView(
            auto_unbind=row.auto_unbind,
            pay_with_medium=row.pay_with_medium,
            member_debt_on_medium=row.member_debt_on_medium,
        )

    return run_idempotent(uow, ctx, "update_venue_settings", changes, handler, VenueSettingsView)


def set_till_payment(
    uow: UnitOfWork, ctx: RequestContext, *, till_id: int, pay_with_medium: bool | None
) -> TillPaymentView:
    """Override paying with the medium for one till (seed 001: per computer); None follows the venue."""
    if pay_with_medium is not None and not isinstance(pay_with_medium, bool):
        raise InvalidRequest("pay_with_medium is true, false or null")

    def handler(tx: Tx) -> TillPaymentView:
        venue = authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        kind = tx.conn.execute(
            sa.select(devices.c.kind).where(devices.c.id == till_id, devices.c.venue_id == venue.id)
        ).scalar_one_or_none()
        if kind != DeviceKind.TILL.value:
            raise NotFound(f"till {till_id} does not exist in this venue")
        tx.conn.execute(devices.update().where(devices.c.id == till_id).values(pay_with_medium=pay_with_medium))
        audit.record(tx, ctx, "till.pay_with_medium", f"device:{till_id}", {"pay_with_medium": pay_with_medium})
        venue_value = tx.conn.execute(sa.select(venues.c.pay_with_medium).where(venues.c.id == venue.id)).scalar_one()
        effective = venue_value if pay_with_medium is None else pay_with_medium
        return TillPaymentView(device_id=till_id, pay_with_medium=pay_with_medium, effective=effective)

    return run_idempotent(
        uow, ctx, "set_till_payment", {"till_id": till_id, "pay_with_medium": pay_with_medium}, handler, TillPaymentView
    )


MAX_CARD_NUMBER_DIGITS = 18
MAX_ADDRESS_LENGTH = 500  # venues.address
MAX_TAX_ID_LENGTH = 32  # venues.tax_id


class VenueView(BaseModel):
    """Everything the back office shows about the venue; name, currency, time zone and fiscal profile are
    set when the venue is created (they decide how the books were kept) and are read-only here."""

    id: int
    name: str
    currency: str
    timezone: str
    fiscal_profile: str
    language: str
    auto_unbind: bool
    pay_with_medium: bool
    member_debt_on_medium: bool
    card_deposit_minor: int
    card_number_digits: int | None
    address: str
    tax_id: str | None


def _venue_view(tx: Tx, venue_id: int) -> VenueView:
    row = tx.conn.execute(sa.select(venues).where(venues.c.id == venue_id)).one()
    return VenueView.model_validate(dict(row._mapping))


def read_venue(uow: UnitOfWork, ctx: RequestContext) -> VenueView:
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        return _venue_view(tx, ctx.venue_id)


def update_venue_details(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    language: str,
    card_deposit_minor: int,
    card_number_digits: int | None,
    address: str,
    tax_id: str | None,
) -> VenueView:
    """The venue's language (displays, receipts, staff without their own), the deposit of a card sold
    without an account type that sets one (seed 002 "Pfand"), how many digits of a card number are shown
    (seed 002 "Stellenzahl"), and the seller data printed on receipts. Changes apply to what happens next;
    receipts already issued keep what they printed."""
    if language not in SUPPORTED_LANGUAGES:
        raise InvalidRequest(f"language must be one of {sorted(SUPPORTED_LANGUAGES)}")
    check_non_negative_amount(card_deposit_minor, "card deposit")
    if card_number_digits is not None and (
        isinstance(card_number_digits, bool) or not 1 <= card_number_digits <= MAX_CARD_NUMBER_DIGITS
    ):
        raise InvalidRequest(f"card number digits must be 1..{MAX_CARD_NUMBER_DIGITS}, or none to show every digit")
    if len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidRequest(f"the address has at most {MAX_ADDRESS_LENGTH} characters")
    if tax_id is not None and not 1 <= len(tax_id.strip()) <= MAX_TAX_ID_LENGTH:
        raise InvalidRequest(f"the tax id has 1..{MAX_TAX_ID_LENGTH} characters, or none")
    changes = {
        "language": language,
        "card_deposit_minor": card_deposit_minor,
        "card_number_digits": card_number_digits,
        "address": address.strip(),
        "tax_id": tax_id.strip() if tax_id is not None else None,
    }

    def handler(tx: Tx) -> VenueView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        tx.conn.execute(venues.update().where(venues.c.id == ctx.venue_id).values(**changes))
        audit.record(tx, ctx, "venue.details", f"venue:{ctx.venue_id}", changes)
        return _venue_view(tx, ctx.venue_id)

    return run_idempotent(uow, ctx, "update_venue_details", changes, handler, VenueView)
