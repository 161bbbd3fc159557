"""What every till action shares: the venue's settings, the catalogue at the customer's prices, the signed-in
staff member's permissions, amounts typed by the cashier, and the refreshed tab fragment each action answers.

The reads here only decide what the screen shows (buttons, prices, party members); every booking and every
permission that matters is decided again inside the use case's own transaction.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from babel.numbers import get_currency_precision
from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

from tapzone.access.entry import EntrySaleView
from tapzone.context import MediumEntry
from tapzone.errors import InvalidAmount, MediumNotBound, TapzoneError, UnknownMedium
from tapzone.i18n import format_money
from tapzone.media.lookup import medium_match
from tapzone.media.model import normalise_uid
from tapzone.media.transfer import MediumMoveView
from tapzone.payments.model import CONFIRMED_BY_CASHIER, PaymentState, PaymentView, TerminalKind, instruction_for
from tapzone.plans.specs import AccountSaleView
from tapzone.pos.catalogue import customer_price
from tapzone.pos.tab_store import ON_ACCOUNT
from tapzone.pos.tabs import view_tab
from tapzone.pos.views import ReturnView, SettlementView, TabView, TopupView
from tapzone.store.tables import (
    customers,
    entry_products,
    media,
    payment_terminals,
    price_groups,
    products,
    role_permissions,
    staff,
    tab_lines,
    tabs,
    venues,
    visits,
)
from tapzone.venues.permissions import Permission
from tapzone.web.render import render, translate
from tapzone.web.session import Screen, uow_of

# Amounts as a cashier types them: whole units with at most one decimal separator, never digit grouping
# ("1.234" would mean 1234 in German and 1.234 in English; refusing it is safer than guessing).
_AMOUNT = re.compile(r"^(\d{1,9})(?:[.,](\d{1,3}))?$")

# A refusal that only means "this medium is free": the till offers to sell onto it instead of showing an error.
FREE_MEDIUM = (MediumNotBound, UnknownMedium)


def parse_amount(text: str, currency: str, language: str) -> int:
    """Minor units from what the cashier typed ("12", "12.5", "12,50"); refused with a hint otherwise."""
    match = _AMOUNT.match(text.strip())
    digits = get_currency_precision(currency)
    if match is None or len(match.group(2) or "") > digits:
        example = format_money(1250, currency, language)
        raise InvalidAmount(translate("Enter the amount like {example}", language).format(example=example))
    amount = Decimal(f"{match.group(1)}.{match.group(2) or '0'}").scaleb(digits)
    return int(amount)


def entry_of(value: str) -> MediumEntry:
    """How the medium of this screen reached the till. Anything but "reader" counts as typed, so a tampered
    form makes the use case ask for the manual-entry permission instead of skipping it."""
    return MediumEntry.READER if value == MediumEntry.READER.value else MediumEntry.TYPED


@dataclass(frozen=True, slots=True)
class VenueSettings:
    currency: str
    timezone: str


def venue_of(request: Request, venue_id: int) -> VenueSettings:
    with uow_of(request).engine.connect() as conn:
        row = conn.execute(sa.select(venues.c.currency, venues.c.timezone).where(venues.c.id == venue_id)).one()
    return VenueSettings(row.currency, row.timezone)


def permissions_of(request: Request, who: Screen) -> frozenset[str]:
    """What the signed-in staff member may do, to show only the buttons that can work for them."""
    if who.operator_id is None:
        return frozenset()
    with uow_of(request).engine.connect() as conn:
        granted = conn.execute(
            sa.select(role_permissions.c.permission)
            .join(staff, staff.c.role_id == role_permissions.c.role_id)
            .where(staff.c.id == who.operator_id, staff.c.active.is_(True))
        ).scalars()
        return frozenset(granted)


def catalogue_of(request: Request, venue_id: int, customer_id: int | None = None) -> dict[str, list[Any]]:
    """Product buttons by group at the price this customer pays (their price group's where set). Entry
    products are sold with a medium, never tapped onto a tab, so they stay off the buttons."""
    source, price = customer_price(products, venue_id, customer_id)
    is_entry = sa.select(entry_products.c.product_id).where(entry_products.c.product_id == products.c.id).exists()
    with uow_of(request).engine.connect() as conn:
        rows = conn.execute(
            sa.select(products.c.id, products.c.name, price.label("price_minor"), products.c.product_group)
            .select_from(source)
            .where(products.c.venue_id == venue_id, products.c.active.is_(True), ~is_entry)
            .order_by(products.c.product_group, products.c.name)
        ).all()
    groups: dict[str, list[Any]] = {}
    for row in rows:
        groups.setdefault(row.product_group, []).append(row)
    return groups


def terminals_of(request: Request, device_id: int) -> list[Any]:
    """The till's card terminals, its default first (seed 003: several may be set up, one is the default)."""
    with uow_of(request).engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(payment_terminals.c.name, payment_terminals.c.kind, payment_terminals.c.is_default)
                .where(payment_terminals.c.device_id == device_id, payment_terminals.c.active.is_(True))
                .order_by(payment_terminals.c.is_default.desc(), payment_terminals.c.name)
            ).all()
        )


def customers_of(request: Request, venue_id: int) -> list[Any]:
    """Registered customers a sale can be made for, so their price group applies (seed 004)."""
    with uow_of(request).engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(customers.c.id, customers.c.name)
                .where(customers.c.venue_id == venue_id)
                .order_by(customers.c.name)
                .limit(500)
            ).all()
        )


@dataclass(frozen=True, slots=True)
class PartyMember:
    medium_uid: str
    is_main: bool
    inside: bool
    debt_minor: int


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who holds the medium: the registered customer and price group, the party, the deposit held."""

    customer_name: str | None = None
    customer_id: int | None = None
    price_group: str | None = None
    deposit_minor: int = 0
    on_account_minor: int = 0  # bought on this visit and booked to the customer's own account (seed 001)
    party: list[PartyMember] = field(default_factory=list)


def visitor_of(request: Request, tab: TabView) -> Visitor:
    with uow_of(request).engine.connect() as conn:
        visit = conn.execute(
            sa.select(
                visits.c.party_id,
                visits.c.customer_id,
                customers.c.name.label("customer_name"),
                price_groups.c.name.label("price_group"),
                media.c.deposit_minor,
            )
            .select_from(
                visits.join(media, media.c.id == visits.c.medium_id)
                .outerjoin(customers, customers.c.id == visits.c.customer_id)
                .outerjoin(price_groups, price_groups.c.id == customers.c.price_group_id)
            )
            .where(visits.c.id == tab.visit_id)
        ).one()
        on_account = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(tab_lines.c.amount_minor), 0))
            .join(tabs, tabs.c.id == tab_lines.c.tab_id)
            .where(tabs.c.card_account_id == tab.card_account_id, tabs.c.state == ON_ACCOUNT)
        ).scalar_one()
        party: list[PartyMember] = []
        if visit.party_id is not None:
            debts = {debt.medium_uid: debt.open_total_minor for debt in tab.party_debts}
            members = conn.execute(
                sa.select(media.c.uid, visits.c.is_main, visits.c.inside)
                .join(media, media.c.id == visits.c.medium_id)
                .where(visits.c.party_id == visit.party_id, visits.c.closed_at.is_(None))
                .order_by(visits.c.is_main.desc(), media.c.uid)
            ).all()
            party = [
                PartyMember(row.uid, row.is_main, row.inside, debts.get(row.uid, 0))
                for row in members
                if row.uid != tab.medium_uid
            ]
    return Visitor(
        customer_name=visit.customer_name,
        customer_id=visit.customer_id,
        price_group=visit.price_group,
        deposit_minor=int(visit.deposit_minor),
        on_account_minor=int(on_account),
        party=party,
    )


def deposit_held(request: Request, venue_id: int, uid: str) -> int:
    """The deposit on a medium without a visit (unbound at a validator exit, still to be handed in)."""
    try:
        match = medium_match(venue_id, uid)
    except TapzoneError:
        return 0
    with uow_of(request).engine.connect() as conn:
        held = conn.execute(sa.select(media.c.deposit_minor).where(match)).scalar_one_or_none()
    return int(held or 0)


def entry_products_of(request: Request, venue_id: int, customer_id: int | None = None) -> list[Any]:
    """Entry products for the sale panel, at the customer's price where their price group has one."""
    source, price = customer_price(
        entry_products.join(products, products.c.id == entry_products.c.product_id), venue_id, customer_id
    )
    with uow_of(request).engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(
                    entry_products.c.product_id,
                    products.c.name,
                    price.label("price_minor"),
                    entry_products.c.credit_type,
                    entry_products.c.credit_limit_minor,
                    entry_products.c.deposit_minor,
                    entry_products.c.companions,
                )
                .select_from(source)
                .where(entry_products.c.venue_id == venue_id, products.c.active.is_(True))
                .order_by(products.c.name)
            ).all()
        )


def payment_text(payment: PaymentView, language: str) -> tuple[str, str]:
    """The amount to key in, formatted for the cashier, and the instruction in the cashier's language (the
    payment's own instruction speaks the venue's language, which need not be the cashier's)."""
    amount = format_money(payment.amount_minor, payment.currency, language)
    return amount, translate(instruction_for(TerminalKind(payment.terminal_kind)), language)


def confirmed_by_cashier(kind: str) -> bool:
    return TerminalKind(kind) in CONFIRMED_BY_CASHIER


def notices_for(done: BaseModel, language: str, currency: str) -> list[str]:
    """What the cashier needs to hear after an action: amounts paid, change to hand back, what moved."""

    def say(message: str, **amounts: int) -> str:
        values = {name: format_money(amount, currency, language) for name, amount in amounts.items()}
        return translate(message, language).format(**values)

    notices: list[str] = []
    if isinstance(done, SettlementView):
        if done.total_minor:
            notices.append(say("Paid {amount}", amount=done.total_minor))
        if done.change_minor:
            notices.append(say("Change to give back: {amount}", amount=done.change_minor))
        if done.refunded_minor:
            notices.append(say("Leftover value paid out in cash: {amount}", amount=done.refunded_minor))
    elif isinstance(done, TopupView):
        loaded = say("Loaded {amount}, balance now {balance}", amount=done.amount_minor, balance=done.balance_minor)
        notices.append(loaded)
    elif isinstance(done, EntrySaleView):
        media = ", ".join(medium.medium_uid for medium in done.media)
        notices.append(say("Entry sold for {amount}", amount=done.total_minor) + f" ({media})")
        if done.change_minor:
            notices.append(say("Change to give back: {amount}", amount=done.change_minor))
    elif isinstance(done, AccountSaleView):
        name = done.account.account_type_name or ""
        notices.append(say("Sold for {amount}", amount=done.total_charged_minor) + f": {name}")
    elif isinstance(done, MediumMoveView):
        text = translate("The value of {lost} moved to {new}; {lost} is blocked for good", language)
        notices.append(text.format(lost=done.from_medium_uid, new=done.to_medium_uid))
    elif isinstance(done, ReturnView):
        notices.append(translate("Medium returned", language))
        if done.deposit_refunded_minor:
            notices.append(say("Deposit paid back in cash: {amount}", amount=done.deposit_refunded_minor))
    elif isinstance(done, PaymentView):
        declined = done.state == PaymentState.DECLINED
        message = "Card declined: nothing was booked" if declined else "Card payment cancelled: nothing was booked"
        notices.append(translate(message, language))
    return notices


def new_key() -> str:
    """A fresh idempotency key for each rendered form: a double tap or a resent form books once."""
    return uuid.uuid4().hex


def tab_fragment(
    request: Request,
    who: Screen,
    uid: str,
    *,
    entry: MediumEntry = MediumEntry.READER,
    error: TapzoneError | None = None,
    others: list[str] | None = None,
    **extra: Any,
) -> Response:
    """The tab of `uid` as the till shows it after any action, with the product buttons (out of band)
    switched to this medium at its customer's prices — or switched off when no tab is open, so a tap can
    never book onto the medium read before."""
    venue = venue_of(request, who.device.venue_id)
    tab: TabView | None = None
    free = False
    try:
        tab = view_tab(uow_of(request), who.context(), medium_uid=uid, entry=entry)
    except FREE_MEDIUM:
        free = entry is MediumEntry.READER
        uid = normalise_uid(uid)  # it passed as a number already, or the use case would have refused it
    except TapzoneError as refused:
        error = error or refused
    visitor = visitor_of(request, tab) if tab is not None else Visitor()
    together: list[TabView] = []
    for other in others or []:
        try:
            together.append(view_tab(uow_of(request), who.context(), medium_uid=other))
        except TapzoneError as refused:
            error = error or refused
    allowed = permissions_of(request, who)
    due_this = due_all = 0
    if tab is not None:
        # The same sums the settle action takes as the tender (till.py `_due_minor`), shown before paying.
        together_uids = {other.medium_uid for other in together}
        due_this = tab.open_total_minor + sum(
            other.open_total_minor for other in together if other.medium_uid != tab.medium_uid
        )
        due_all = due_this + sum(
            debt.open_total_minor for debt in tab.party_debts if debt.medium_uid not in together_uids
        )
    context: dict[str, Any] = {
        "uid": uid,
        "entry": entry.value,
        "tab": tab,
        "free": free,
        "visitor": visitor,
        "together": together,
        "due_this": due_this,
        "due_all": due_all,
        "error": error,
        "allowed": allowed,
        "currency": venue.currency,
        "timezone": venue.timezone,
        "key": new_key(),
        "groups": catalogue_of(request, who.device.venue_id, visitor.customer_id),
        "terminals": terminals_of(request, who.device.device_id),
    }
    if free:
        context["deposit_minor"] = deposit_held(request, who.device.venue_id, uid)
        if Permission.MEDIUM_ISSUE.value in allowed:
            context["entry_products"] = entry_products_of(request, who.device.venue_id)
            context["customers"] = customers_of(request, who.device.venue_id)
    context.update(extra)
    done = context.get("done") or context.get("closed_payment")
    if done is not None:
        context["notices"] = notices_for(done, who.language, venue.currency)
    payment = context.get("payment")
    if payment is not None:
        context["payment_amount"], context["payment_instruction"] = payment_text(payment, who.language)
    return render(request, "till/tab.html", language=who.language, **context)
