"""Selling an entry: binds the medium (and a party's companion media) to new visits in the paid zone.

seed 001: the entry product decides the credit type and limit; a prepaid entry is loaded at sale. seed 000:
a family or group ticket issues extra cards; with shared anti-passback they form one party.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.access.deposits import hold_deposit
from tapzone.access.model import AntiPassback
from tapzone.access.visits import Binding, bind_medium
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest, NotFound
from tapzone.fiscal.profiles import book_advance_received
from tapzone.ledger.codes import EntryCode
from tapzone.ledger.model import EntryDraft, card_money, deposits_held
from tapzone.ledger.posting import post_entry
from tapzone.media.model import MediumKind, normalise_uid
from tapzone.money import Money, check_positive_amount, minor_in, money_payload
from tapzone.payments.flow import card_gate, card_payable
from tapzone.plans.card_accounts import CreditType
from tapzone.pos.booking import credit_revenue, debit_tenders
from tapzone.pos.catalogue import customer_price
from tapzone.pos.receipts import issue as receipting
from tapzone.pos.receipts.model import ReceiptKind, ReceiptLine
from tapzone.pos.tenders import Tender, TenderKind, TenderPlan, allocate, plan_tenders
from tapzone.pos.vat import split_by_rate
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import entry_products, parties, products
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise


class BoundMediumView(BaseModel):
    medium_uid: str
    visit_id: int
    card_account_id: int
    is_main: bool


class EntrySaleView(BaseModel):
    entry_product_id: int
    zone_id: int
    party_id: int | None
    media: list[BoundMediumView]
    total_minor: int
    change_minor: int
    entry_ids: list[int]
    receipt_id: int | None = None


def _entry_product(tx: Tx, venue_id: int, product_id: int, customer_id: int | None) -> sa.Row[Any]:
    """The entry product; its `price_minor` is the customer's price group's price where it has one."""
    source, price = customer_price(
        entry_products.join(products, products.c.id == entry_products.c.product_id), venue_id, customer_id
    )
    row = tx.conn.execute(
        sa.select(entry_products, price.label("price_minor"), products.c.vat_rate_bp, products.c.name)
        .select_from(source)
        .where(
            entry_products.c.product_id == product_id,
            entry_products.c.venue_id == venue_id,
            products.c.active.is_(True),
        )
    ).first()
    if row is None:
        raise NotFound(f"entry product {product_id} does not exist in this venue")
    return row


def _book_parts(
    tx: Tx,
    ctx: RequestContext,
    venue: Venue,
    plan: TenderPlan,
    product: sa.Row[Any],
    deposit_total: int,
    load_minor: int,
    main_account_id: int,
) -> list[int]:
    """One journal entry per reason (sale, deposit-hold, top-up), each paid by its share of the tenders."""
    amounts = [product.price_minor, deposit_total, load_minor]
    shares = allocate(plan, amounts)
    entry_ids: list[int] = []
    sale = EntryDraft(EntryCode.SALE, memo=f"entry {product.name}")
    debit_tenders(sale, venue, shares[0], None)
    credit_revenue(sale, venue, split_by_rate([(product.price_minor, product.vat_rate_bp)]))
    entry_ids.append(post_entry(tx, ctx, venue, sale))
    if deposit_total:
        deposit = EntryDraft(EntryCode.DEPOSIT_HOLD, memo="wristband deposits")
        debit_tenders(deposit, venue, shares[1], None)
        deposit.credit(deposits_held(venue.currency), deposit_total)
        entry_ids.append(post_entry(tx, ctx, venue, deposit))
    if load_minor:
        topup = EntryDraft(EntryCode.TOPUP, memo="prepaid value loaded with the entry")
        debit_tenders(topup, venue, shares[2], None)
        topup.credit(card_money(main_account_id, venue.currency), load_minor)
        book_advance_received(topup, venue, load_minor)
        entry_ids.append(post_entry(tx, ctx, venue, topup))
    return entry_ids


@card_payable("sell_entry")
def sell_entry(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    entry_product_id: int,
    medium_uid: str,
    tenders: list[Tender],
    companion_uids: list[str] | None = None,
    initial_load: Money | None = None,
    customer_id: int | None = None,
    medium_kind: MediumKind = MediumKind.WRISTBAND,
) -> EntrySaleView:
    """Sell an entry product onto a medium (and its companions) and take payment for the ticket, the
    deposits and any prepaid value, all in one transaction."""
    companions = [normalise_uid(uid) for uid in companion_uids or []]
    all_uids = [normalise_uid(medium_uid), *companions]
    if len(set(all_uids)) != len(all_uids):
        raise InvalidRequest("each medium of a party must be different")
    if initial_load is not None:
        check_positive_amount(initial_load.minor, "initial load")
    if any(tender.kind is TenderKind.PREPAID for tender in tenders):
        raise InvalidRequest("an entry is paid in cash or by card")
    payload = {
        "entry_product_id": entry_product_id,
        "medium_uid": medium_uid,
        "companions": companions,
        "tenders": [tender.payload() for tender in tenders],
        "initial_load": money_payload(initial_load),
        "customer_id": customer_id,
        "medium_kind": MediumKind(medium_kind).value,
    }

    def handler(tx: Tx) -> EntrySaleView:
        needed = [Permission.MEDIUM_ISSUE, Permission.SALE]
        venue = authorise(tx, ctx, *needed, *([Permission.TOPUP] if initial_load is not None else []))
        product = _entry_product(tx, venue.id, entry_product_id, customer_id)
        credit_type = CreditType(product.credit_type)
        if len(companions) > product.companions:
            raise InvalidRequest(f"this entry admits {product.companions} companion(s), {len(companions)} given")
        load_minor = 0
        if initial_load is not None:
            if credit_type is not CreditType.PREPAID:
                raise InvalidRequest("only a prepaid entry is loaded with value (seed 001 'Ladda')")
            load_minor = minor_in(initial_load, venue.currency, "initial load")
        deposit_total = product.deposit_minor * len(all_uids)
        due = product.price_minor + deposit_total + load_minor
        plan = card_gate(tx, ctx, venue, plan_tenders(due, tenders, 0, venue.currency))
        party_id = None
        if companions:
            party_id = tx.conn.execute(
                parties.insert()
                .values(venue_id=venue.id, anti_passback=AntiPassback(product.anti_passback).value, created_at=tx.now)
                .returning(parties.c.id)
            ).scalar_one()
        bindings: list[Binding] = []
        for index, uid in enumerate(all_uids):
            is_main = index == 0
            bindings.append(
                bind_medium(
                    tx,
                    ctx,
                    venue,
                    uid=uid,
                    kind=MediumKind(medium_kind),
                    credit_type=credit_type,
                    limit_minor=product.credit_limit_minor,
                    customer_id=customer_id if is_main else None,
                    zone_id=product.zone_id,
                    entry_product_id=product.product_id,
                    party_id=party_id,
                    is_main=is_main,
                )
            )
        for binding in bindings:
            hold_deposit(tx, binding.medium_id, product.deposit_minor)
        entry_ids = _book_parts(tx, ctx, venue, plan, product, deposit_total, load_minor, bindings[0].card_account_id)
        lines = [
            ReceiptLine(
                name=product.name,
                quantity=1,
                unit_price_minor=product.price_minor,
                amount_minor=product.price_minor,
                vat_rate_bp=product.vat_rate_bp,
            )
        ]
        if deposit_total:
            lines.append(receipting.value_line(f"Deposit x{len(all_uids)}", deposit_total, advance=False))
        if load_minor:
            lines.append(receipting.value_line("Prepaid value", load_minor))
        receipt_id = receipting.issue(
            tx,
            ctx,
            venue,
            ReceiptKind.ENTRY,
            lines=lines,
            paid=receipting.paid_by(plan, tx, ctx.payment_id),
            entry_id=entry_ids[0],
            medium_uid=bindings[0].medium_uid,
        )
        return EntrySaleView(
            receipt_id=receipt_id,
            entry_product_id=product.product_id,
            zone_id=product.zone_id,
            party_id=party_id,
            media=[
                BoundMediumView(
                    medium_uid=b.medium_uid, visit_id=b.visit_id, card_account_id=b.card_account_id, is_main=i == 0
                )
                for i, b in enumerate(bindings)
            ],
            total_minor=due,
            change_minor=plan.change_minor,
            entry_ids=entry_ids,
        )

    return run_idempotent(uow, ctx, "sell_entry", payload, handler, EntrySaleView)
