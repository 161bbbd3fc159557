"""Selling account types onto media (seed 002): staff sell "a ten-visit card", the type's rules do the rest.

Selling a type onto a medium creates its card account, or tops up the account of that type the medium
already holds. A medium whose number lies in a type's range gets that type without anyone choosing it.
The money part of a sale is prepaid value (a liability, no revenue); what the rule turns into visits,
minutes or validity is a single-purpose voucher, booked as revenue at the type's VAT rate when sold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from tapzone.access.deposits import hold_deposit
from tapzone.access.visits import bind_medium, open_card_account
from tapzone.context import MediumEntry, RequestContext
from tapzone.errors import AccountTypeNotSellable, ContractRequired, InvalidIban, InvalidRequest, NotFound
from tapzone.fiscal.profiles import book_advance_received
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, card_units, deposits_held, units_issued
from tapzone.ledger.posting import post_entry
from tapzone.media.lookup import lookup_medium, usable_medium
from tapzone.media.lookup_limits import refuse_if_used_up
from tapzone.media.model import MediumKind, normalise_uid
from tapzone.money import CountUnit, Money
from tapzone.payments.flow import card_gate, card_payable
from tapzone.plans.account_types import AccountType, display_number
from tapzone.plans.specs import AccountSaleView, BalancesView, ContractSpec, PreviewView, TypedAccountView
from tapzone.plans.topup_rules import Balances, Increments, increments_for
from tapzone.plans.type_store import account_balances_of, load_account_type, type_for_card_number
from tapzone.pos.booking import credit_revenue, debit_tenders
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind, ReceiptLine
from tapzone.pos.tenders import DEFAULT_CARD_PROVIDER, Tender, TenderKind, TenderPlan, allocate, plan_tenders
from tapzone.pos.topup import check_topup_tender
from tapzone.pos.vat import split_by_rate
from tapzone.pos.views import TopupView
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import account_types, card_accounts, contracts, customers, media, venues, visits
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import DeviceKind, Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise, authorise_unattended


def balances_view(balances: Balances) -> BalancesView:
    return BalancesView(
        money_minor=balances.money,
        bonus=balances.bonus,
        minutes=balances.minutes,
        visits=balances.visits,
        valid_until=balances.valid_until,
    )


def _added(inc: Increments, before: Balances, after: Balances) -> BalancesView:
    return BalancesView(
        money_minor=inc.money,
        bonus=inc.bonus,
        minutes=inc.minutes,
        visits=inc.visits,
        valid_until=after.valid_until if after.valid_until != before.valid_until else None,
    )


def card_number_digits(tx: Tx, venue_id: int) -> int | None:
    digits: int | None = tx.conn.execute(
        sa.select(venues.c.card_number_digits).where(venues.c.id == venue_id)
    ).scalar_one()
    return digits


def typed_account_view(tx: Tx, venue: Venue, card_account_id: int) -> TypedAccountView:
    row = tx.conn.execute(
        sa.select(
            card_accounts,
            media.c.uid,
            account_types.c.number.label("type_number"),
            account_types.c.name.label("type_name"),
        )
        .select_from(
            card_accounts.join(media, media.c.id == card_accounts.c.medium_id).outerjoin(
                account_types, account_types.c.id == card_accounts.c.account_type_id
            )
        )
        .where(card_accounts.c.id == card_account_id)
    ).one()
    return TypedAccountView(
        card_account_id=row.id,
        visit_id=row.visit_id,
        medium_uid=row.uid,
        display_number=display_number(row.uid, card_number_digits(tx, venue.id)),
        account_type_id=row.account_type_id,
        account_type_number=row.type_number,
        account_type_name=row.type_name,
        is_active=row.is_active,
        credit_type=row.credit_type,
        balances=balances_view(account_balances_of(tx, row.id, venue.currency)),
        last_used_at=row.last_used_at,
    )


def book_type_topup(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    kind: AccountType,
    card_account_id: int,
    price_minor: int,
    inc: Increments,
    plan: TenderPlan,
) -> int:
    """One `topup` entry: tenders in; money to the card as prepaid value; the rest of the price is revenue
    at the type's rate (visits, minutes, validity are single-purpose); counted units on their own ledger."""
    draft = EntryDraft(EntryCode.TOPUP, memo=f"{kind.name} sold")
    debit_tenders(draft, venue, plan, None)
    draft.credit(card_money(card_account_id, venue.currency), inc.money)
    book_advance_received(draft, venue, inc.money)
    credit_revenue(draft, venue, split_by_rate([(price_minor - inc.money, kind.vat_rate_bp)]))
    for unit, amount in (
        (CountUnit.BONUS, inc.bonus),
        (CountUnit.MINUTES, inc.minutes),
        (CountUnit.VISITS, inc.visits),
    ):
        draft.debit(units_issued(unit), amount).credit(card_units(card_account_id, unit), amount)
    return post_entry(tx, ctx, venue, draft)


def _book_revenue(
    tx: Tx, ctx: RequestContext, venue: Venue, code: EntryCode, memo: str, plan: TenderPlan, amount: int, rate: int
) -> int:
    draft = EntryDraft(code, memo=memo)
    debit_tenders(draft, venue, plan, None)
    credit_revenue(draft, venue, split_by_rate([(amount, rate)]))
    return post_entry(tx, ctx, venue, draft)


def apply_validity(tx: Tx, card_account_id: int, before: Balances, after: Balances) -> None:
    if after.valid_until != before.valid_until:
        tx.conn.execute(
            card_accounts.update().where(card_accounts.c.id == card_account_id).values(valid_until=after.valid_until)
        )


def check_contract(contract: ContractSpec | None, customer_id: int | None) -> str:
    """The normalised IBAN of a complete contract; a subscription type is only issued with one (seed 002)."""
    if contract is None:
        raise ContractRequired("this account type is issued only with a subscription contract")
    if customer_id is None:
        raise ContractRequired("a subscription contract belongs to a registered customer; name the customer")
    try:
        iban = IBAN(contract.iban)
    except SchwiftyException as error:
        raise InvalidIban(f"the IBAN is not valid: {error}") from error
    return str(iban.compact)


def _store_contract(
    tx: Tx, venue: Venue, card_account_id: int, customer_id: int, contract: ContractSpec, iban: str
) -> None:
    tx.conn.execute(
        contracts.insert().values(
            venue_id=venue.id,
            card_account_id=card_account_id,
            customer_id=customer_id,
            account_holder=contract.account_holder,
            iban=iban,
            bic=contract.bic,
            mandate_reference=contract.mandate_reference,
            mandate_signed_on=contract.mandate_signed_on,
            address=contract.address,
            created_at=tx.now,
        )
    )


def fee_due(kind: AccountType, inc: Increments, before: Balances, *, created: bool) -> int:
    """seed 002 "Gebühr": due on first issue of the type and on renewal, i.e. a top-up that extends a
    running validity."""
    return kind.fee_minor if created or (inc.extends_validity and before.valid_until is not None) else 0


@dataclass(frozen=True, slots=True)
class TypedTopup:
    fee_minor: int
    total_minor: int
    entry_ids: list[int]
    receipt_id: int


def _receipt_lines(kind: AccountType, price: int, inc: Increments, fee: int, deposit: int) -> list[ReceiptLine]:
    """The money part is prepaid value (a voucher); the rest of the price, the fee, and a card sold instead
    of lent are supplies at the type's rate; a refundable deposit is no supply."""
    lines: list[ReceiptLine] = []
    if inc.money:
        lines.append(receipting.value_line(f"{kind.name}: prepaid value", inc.money))
    supply = [(kind.name, price - inc.money), (f"{kind.name}: fee", fee)]
    if kind.deposit_is_sale_price:
        supply.append((f"{kind.name}: card", deposit))
    elif deposit:
        lines.append(receipting.value_line("Card deposit", deposit, advance=False))
    lines += [
        ReceiptLine(name=name, quantity=1, unit_price_minor=amount, amount_minor=amount, vat_rate_bp=kind.vat_rate_bp)
        for name, amount in supply
        if amount
    ]
    return lines


def charge_typed_topup(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    kind: AccountType,
    account_id: int,
    price: int,
    *,
    tender: TenderKind,
    card_provider: str,
    created: bool,
    deposit: int = 0,
    medium_id: int | None = None,
) -> TypedTopup:
    """Take the price (plus fee and deposit) and apply the type's top-up rule to the account; the account
    is locked by the caller."""
    inc = increments_for(kind.rule, price)
    before = account_balances_of(tx, account_id, venue.currency)
    after = before.after(inc, venue.business_day(tx.now))
    fee = fee_due(kind, inc, before, created=created)
    total = price + fee + deposit
    plan = card_gate(
        tx,
        ctx,
        venue,
        plan_tenders(total, [Tender(tender, Money(total, venue.currency), card_provider)], 0, venue.currency),
    )
    price_share, fee_share, deposit_share = allocate(plan, [price, fee, deposit])
    entry_ids = [book_type_topup(tx, ctx, venue, kind, account_id, price, inc, price_share)]
    if fee:
        entry_ids.append(
            _book_revenue(tx, ctx, venue, EntryCode.FEE, f"{kind.name} fee", fee_share, fee, kind.vat_rate_bp)
        )
    if deposit:
        assert medium_id is not None
        entry_ids.append(_book_deposit(tx, ctx, venue, kind, medium_id, deposit, deposit_share))
    apply_validity(tx, account_id, before, after)
    receipt_id = receipting.issue(
        tx,
        ctx,
        venue,
        ReceiptKind.TOPUP,
        lines=_receipt_lines(kind, price, inc, fee, deposit),
        paid=receipting.paid_by(plan, tx, ctx.payment_id),
        entry_id=entry_ids[0],
        balance_after_minor=after.money,
        reference=kind.name,
    )
    return TypedTopup(fee, total, entry_ids, receipt_id)


def _choose_type(tx: Tx, venue_id: int, uid: str, account_type_id: int | None) -> AccountType:
    if account_type_id is not None:
        kind = load_account_type(tx, venue_id, account_type_id)
        if not kind.sellable:
            raise AccountTypeNotSellable(f"{kind.name} is not for sale")
        return kind
    by_range = type_for_card_number(tx, venue_id, normalise_uid(uid))
    if by_range is None:
        raise InvalidRequest("name the account type; this card number lies in no type's number range")
    return by_range


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a sale lands: the visit, and the account of this type on it if there is one."""

    visit_id: int | None
    medium_id: int | None
    account_id: int | None
    customer_id: int | None


def _target(tx: Tx, ctx: RequestContext, uid: str, kind: AccountType, entry: MediumEntry) -> _Target:
    medium = lookup_medium(tx, ctx, uid)
    if medium is None:
        return _Target(None, None, None, None)
    usable_medium(tx, ctx, uid, entry)
    visit = tx.conn.execute(
        sa.select(visits.c.id, visits.c.customer_id).where(
            visits.c.medium_id == medium.id, visits.c.closed_at.is_(None)
        )
    ).first()
    if visit is None:
        return _Target(None, medium.id, None, None)
    tx.lock_rows(visits, [visit.id])
    account_id = tx.conn.execute(
        sa.select(card_accounts.c.id).where(
            card_accounts.c.visit_id == visit.id,
            card_accounts.c.account_type_id == kind.id,
            card_accounts.c.closed_at.is_(None),
        )
    ).scalar_one_or_none()
    if account_id is not None:
        tx.lock_rows(card_accounts, [account_id])
    return _Target(visit.id, medium.id, account_id, visit.customer_id)


def _price(kind: AccountType, price_minor: int | None) -> int:
    price = price_minor if price_minor is not None else kind.default_price_minor
    if price is None:
        raise InvalidRequest(f"{kind.name} has no default price; give the price")
    return price


def _customer_exists(tx: Tx, venue_id: int, customer_id: int | None) -> None:
    if customer_id is not None and (
        tx.conn.execute(
            sa.select(customers.c.id).where(customers.c.id == customer_id, customers.c.venue_id == venue_id)
        ).first()
        is None
    ):
        raise NotFound(f"customer {customer_id} does not exist in this venue")


def _place_account(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    kind: AccountType,
    target: _Target,
    *,
    uid: str,
    medium_kind: MediumKind,
    customer_id: int | None,
    make_active: bool,
) -> tuple[int, int]:
    """The card account the sale tops up: the existing one of this type, one more on the bound medium,
    or the first account of a medium bound to a new visit now. Returns (card account, medium)."""
    if target.account_id is not None and target.medium_id is not None:
        return target.account_id, target.medium_id
    if target.visit_id is None:
        binding = bind_medium(
            tx,
            ctx,
            venue,
            uid=uid,
            kind=medium_kind,
            credit_type=kind.credit_type,
            limit_minor=0,
            customer_id=customer_id,
        )
        account_id, medium_id = binding.card_account_id, binding.medium_id
    else:
        assert target.medium_id is not None
        medium_id = target.medium_id
        if make_active:
            tx.conn.execute(
                card_accounts.update().where(card_accounts.c.visit_id == target.visit_id).values(is_active=False)
            )
        account_id = open_card_account(
            tx,
            venue,
            visit_id=target.visit_id,
            medium_id=medium_id,
            credit_type=kind.credit_type,
            limit_minor=0,
            is_active=make_active,
        )
    tx.conn.execute(card_accounts.update().where(card_accounts.c.id == account_id).values(account_type_id=kind.id))
    return account_id, medium_id


def preview_sale(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    account_type_id: int,
    price_minor: int | None = None,
    medium_uid: str | None = None,
) -> PreviewView:
    """seed 002's preview fields: what a sale at this price adds, and the balances it leads to, computed by
    the same functions the sale books with."""
    with uow.transaction() as tx:
        venue = authorise(tx, ctx, Permission.ACCOUNT_SELL)
        kind = load_account_type(tx, ctx.venue_id, account_type_id)
        price = _price(kind, price_minor)
        inc = increments_for(kind.rule, price)
        before = Balances()
        fee = kind.fee_minor
        if medium_uid is not None:
            target = _target(tx, ctx, medium_uid, kind, MediumEntry.READER)
            if target.account_id is not None:
                before = account_balances_of(tx, target.account_id, venue.currency)
                fee = fee_due(kind, inc, before, created=False)
        after = before.after(inc, venue.business_day(tx.now))
        return PreviewView(
            account_type_id=kind.id,
            price_minor=price,
            fields=sorted(f.value for f in kind.fields),
            added=_added(inc, before, after),
            resulting=balances_view(after),
            fee_minor=fee,
        )


@card_payable("sell_account_type")
def sell_account_type(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    medium_uid: str,
    account_type_id: int | None = None,
    price_minor: int | None = None,
    tender: TenderKind = TenderKind.CASH,
    card_provider: str = DEFAULT_CARD_PROVIDER,
    customer_id: int | None = None,
    contract: ContractSpec | None = None,
    medium_kind: MediumKind = MediumKind.CARD,
    make_active: bool = True,
    entry: MediumEntry = MediumEntry.READER,
) -> AccountSaleView:
    """Sell an account type onto a medium: bind a new medium, add the type's account to a bound one, or top
    up the account of that type it already holds. Fee on first issue and on renewal; deposit with a new
    medium (the type's, else the venue's)."""
    tender = check_topup_tender(tender)
    medium_kind = MediumKind(medium_kind)
    normalise_uid(medium_uid)
    payload: dict[str, Any] = {
        "medium_uid": medium_uid,
        "account_type_id": account_type_id,
        "price_minor": price_minor,
        "tender": tender.value,
        "card_provider": card_provider,
        "customer_id": customer_id,
        "contract": contract.model_dump(mode="json") if contract else None,
        "medium_kind": medium_kind.value,
        "make_active": make_active,
        "entry": entry.value,
    }

    def handler(tx: Tx) -> AccountSaleView:
        venue = authorise(tx, ctx, Permission.ACCOUNT_SELL, Permission.MEDIUM_ISSUE)
        _customer_exists(tx, venue.id, customer_id)
        kind = _choose_type(tx, venue.id, medium_uid, account_type_id)
        price = _price(kind, price_minor)
        increments_for(kind.rule, price)  # refuse a price off the list before anything is bound
        target = _target(tx, ctx, medium_uid, kind, entry)
        created = target.account_id is None
        holder = customer_id if customer_id is not None else target.customer_id
        iban = check_contract(contract, holder) if created and kind.contract_required else None
        deposit = 0
        if target.visit_id is None:
            deposit = kind.deposit_minor if kind.deposit_minor is not None else _venue_deposit(tx, venue.id)
        account_id, medium_id = _place_account(
            tx,
            ctx,
            venue,
            kind,
            target,
            uid=medium_uid,
            medium_kind=medium_kind,
            customer_id=customer_id,
            make_active=make_active,
        )
        if iban is not None and holder is not None and contract is not None:
            _store_contract(tx, venue, account_id, holder, contract, iban)

        sale = charge_typed_topup(
            tx,
            ctx,
            venue,
            kind,
            account_id,
            price,
            tender=tender,
            card_provider=card_provider,
            created=created,
            deposit=deposit,
            medium_id=medium_id,
        )
        return AccountSaleView(
            account=typed_account_view(tx, venue, account_id),
            created=created,
            price_minor=price,
            fee_minor=sale.fee_minor,
            deposit_minor=deposit,
            total_charged_minor=sale.total_minor,
            entry_ids=sale.entry_ids,
            receipt_id=sale.receipt_id,
        )

    return run_idempotent(uow, ctx, "sell_account_type", payload, handler, AccountSaleView)


def _venue_deposit(tx: Tx, venue_id: int) -> int:
    return int(tx.conn.execute(sa.select(venues.c.card_deposit_minor).where(venues.c.id == venue_id)).scalar_one())


def _book_deposit(
    tx: Tx, ctx: RequestContext, venue: Venue, kind: AccountType, medium_id: int, amount: int, plan: TenderPlan
) -> int:
    """A refundable deposit is a liability held on the medium; "deposit is sale price" sells the card instead."""
    if kind.deposit_is_sale_price:
        return _book_revenue(tx, ctx, venue, EntryCode.SALE, "card sold", plan, amount, kind.vat_rate_bp)
    hold_deposit(tx, medium_id, amount)
    draft = EntryDraft(EntryCode.DEPOSIT_HOLD, memo="card deposit")
    debit_tenders(draft, venue, plan, None)
    draft.credit(deposits_held(venue.currency), amount)
    return post_entry(tx, ctx, venue, draft)


def type_for_medium(uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str) -> tuple[AccountType | None, str]:
    """The type a medium number selects by range, and the number as shown (seed 002 display digits)."""
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.ACCOUNT_SELL)
        uid = normalise_uid(medium_uid)
        refuse_if_used_up(tx, ctx.device_id)  # a till out of lookups learns nothing about any number
        return type_for_card_number(tx, ctx.venue_id, uid), display_number(uid, card_number_digits(tx, ctx.venue_id))


def top_up_typed_account(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    account_type_id: int,
    account_id: int,
    amount_minor: int,
    tender: TenderKind,
    card_provider: str,
) -> TopupView:
    """A plain top-up on an account of a type: the amount is the sale price the type's rule maps."""
    kind = load_account_type(tx, venue.id, account_type_id)
    sale = charge_typed_topup(
        tx, ctx, venue, kind, account_id, amount_minor, tender=tender, card_provider=card_provider, created=False
    )
    return TopupView(
        entry_id=sale.entry_ids[0],
        card_account_id=account_id,
        amount_minor=sale.total_minor,
        balance_minor=account_balances_of(tx, account_id, venue.currency).money,
        receipt_id=sale.receipt_id,
    )


def medium_accounts(
    uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str, entry: MediumEntry = MediumEntry.READER
) -> list[TypedAccountView]:
    """The open card accounts of a bound medium with their balances, for the till and the kiosk screen."""
    with uow.transaction() as tx:
        venue, _ = authorise_unattended(tx, ctx, frozenset({DeviceKind.KIOSK.value}), Permission.MEDIUM_ISSUE)
        medium = usable_medium(tx, ctx, medium_uid, entry)
        ids = tx.conn.execute(
            sa.select(card_accounts.c.id)
            .join(visits, visits.c.id == card_accounts.c.visit_id)
            .where(
                visits.c.medium_id == medium.id,
                visits.c.closed_at.is_(None),
                card_accounts.c.closed_at.is_(None),
            )
            .order_by(card_accounts.c.id)
        ).scalars()
        return [typed_account_view(tx, venue, account_id) for account_id in ids]
