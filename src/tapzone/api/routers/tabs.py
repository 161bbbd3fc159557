"""The tab of a medium: view, Save, Bill ("Nota"), cancel lines, settle."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from tapzone.api.auth import idempotency_key
from tapzone.api.deps import Uow, Who, Write
from tapzone.api.problems import request_language
from tapzone.api.schemas import Cancel, Items, MediumRequest, Settle
from tapzone.context import MediumEntry
from tapzone.i18n import format_money
from tapzone.pos.settlement import settle_tab
from tapzone.pos.tabs import bill_tab, cancel_lines, save_items, view_tab
from tapzone.pos.views import BillView, CancelView, SettlementView, TabView

router = APIRouter(prefix="/media/{uid}/tab", tags=["tabs"])


class TabDisplay(BaseModel):
    open_total: str
    available: str
    balance: str


class TabOut(TabView):
    display: TabDisplay


def _with_display(tab: TabView, request: Request) -> TabOut:
    language = request_language(request)
    return TabOut(
        **tab.model_dump(),
        display=TabDisplay(
            open_total=format_money(tab.open_total_minor, tab.currency, language),
            available=format_money(tab.available_minor, tab.currency, language),
            balance=format_money(tab.balance_minor, tab.currency, language),
        ),
    )


@router.get("")
def get_tab(
    uid: str,
    request: Request,
    who: Who,
    uow: Uow,
    entry: MediumEntry = MediumEntry.READER,
    card_account_id: int | None = None,
) -> TabOut:
    """What the till shows when the medium is read. A typed number needs `medium.manual_entry` and is audited,
    so it takes an Idempotency-Key like a write."""
    key = idempotency_key(request) if entry is MediumEntry.TYPED else "read"
    tab = view_tab(uow, who.context(key), medium_uid=uid, card_account_id=card_account_id, entry=entry)
    return _with_display(tab, request)


@router.post("/lines", status_code=201)
def post_lines(uid: str, body: Items, request: Request, ctx: Write, uow: Uow) -> TabOut:
    """ "Spara": add products to the tab; refused past the credit limit or the free prepaid value."""
    tab = save_items(
        uow, ctx, medium_uid=uid, items=body.domain_items(), card_account_id=body.card_account_id, entry=body.entry
    )
    return _with_display(tab, request)


@router.post("/bills", status_code=201)
def post_bill(uid: str, body: MediumRequest, ctx: Write, uow: Uow) -> BillView:
    """ "Nota": a numbered, unpaid document of the open lines."""
    return bill_tab(uow, ctx, medium_uid=uid, card_account_id=body.card_account_id, entry=body.entry)


@router.post("/cancellations")
def post_cancellation(uid: str, body: Cancel, ctx: Write, uow: Uow) -> CancelView:
    """Cancel open lines (all unless `line_ids` names some); needs `tab.cancel`, audited."""
    return cancel_lines(
        uow,
        ctx,
        medium_uid=uid,
        reason=body.reason,
        line_ids=body.line_ids,
        card_account_id=body.card_account_id,
        entry=body.entry,
    )


@router.post("/settlements", status_code=201)
def post_settlement(uid: str, body: Settle, ctx: Write, uow: Uow) -> SettlementView:
    """Pay the tab with cash (change), card and/or the tab's prepaid value; optionally pay out the rest.
    `include_party` settles the other media of a shared-mode party on the same receipt (seed 000)."""
    return settle_tab(
        uow,
        ctx,
        medium_uid=uid,
        tenders=body.domain_tenders(),
        pay_out_leftover=body.pay_out_leftover,
        include_party=body.include_party,
        other_media=body.other_media,
        card_account_id=body.card_account_id,
        entry=body.entry,
    )
