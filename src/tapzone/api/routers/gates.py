"""The paid zone over HTTP: entry sales at the till, taps from gates, and the entry view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import Field, StrictStr

from tapzone.access.entry import EntrySaleView, sell_entry
from tapzone.access.feed import MAX_EVENTS, AccessEventView, list_access_events
from tapzone.access.gates import MAX_TAP_ID_LENGTH, TapView, tap
from tapzone.access.offline_apply import (
    MAX_BATCH,
    MAX_SEQ,
    OfflineEvent,
    OfflineStatusView,
    OfflineUploadView,
    apply_offline_events,
    offline_status,
)
from tapzone.access.offline_list import PAGE_MAX, offline_list
from tapzone.access.offline_model import OfflineListView
from tapzone.api.deps import Uow, Who, Write, require_json
from tapzone.api.schemas import AmountIn, Body, TenderIn, Uid
from tapzone.errors import PermissionDenied
from tapzone.media.model import MediumKind
from tapzone.money import Money
from tapzone.pos.tenders import Tender

router = APIRouter(tags=["paid zone"])


class SellEntry(Body):
    entry_product_id: int
    medium_uid: Uid
    companion_uids: Annotated[list[Uid], Field(max_length=20, default_factory=list)]
    tenders: Annotated[list[TenderIn], Field(min_length=1, max_length=10)]
    initial_load: AmountIn | None = None
    customer_id: int | None = None
    medium_kind: MediumKind = MediumKind.WRISTBAND


class TapIn(Body):
    tap_id: Annotated[StrictStr, Field(min_length=1, max_length=MAX_TAP_ID_LENGTH)]
    medium_uid: Uid


class OfflineUpload(Body):
    events: Annotated[list[OfflineEvent], Field(min_length=1, max_length=MAX_BATCH)]


def _as_gate(who_device_id: int, gate_id: int) -> None:
    if who_device_id != gate_id:
        raise PermissionDenied("a gate may only act as itself")


@router.post("/entries", status_code=201)
def post_entry(body: SellEntry, ctx: Write, uow: Uow) -> EntrySaleView:
    """Sell an entry product onto a medium and its companions (family/group ticket), paid in one go."""
    return sell_entry(
        uow,
        ctx,
        entry_product_id=body.entry_product_id,
        medium_uid=body.medium_uid,
        companion_uids=body.companion_uids,
        tenders=[Tender(t.kind, Money(t.amount_minor, t.currency), t.provider) for t in body.tenders],
        initial_load=body.initial_load.money() if body.initial_load else None,
        customer_id=body.customer_id,
        medium_kind=body.medium_kind,
    )


@router.post("/gates/{gate_id}/taps")
def post_tap(gate_id: int, body: TapIn, request: Request, who: Who, uow: Uow) -> TapView:
    """A gate read a medium: allow or deny with a reason code, a display text in the venue's language and
    how long to open. The gate's own tap id makes a repeated tap return the stored decision."""
    require_json(request)
    if who.device.device_id != gate_id:
        raise PermissionDenied("a gate may only tap as itself")
    return tap(uow, who.context(f"tap:{body.tap_id}"), tap_id=body.tap_id, medium_uid=body.medium_uid)


@router.get("/gates/{gate_id}/offline-list")
def get_offline_list(
    gate_id: int,
    who: Who,
    uow: Uow,
    since: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=PAGE_MAX)] = 1000,
) -> OfflineListView:
    """The media this gate may decide on by itself during an outage: the whole list (`since=0`) or what
    changed since the `version` of an earlier answer, paged by medium id (`after` = the last page's
    `next_after`)."""
    _as_gate(who.device.device_id, gate_id)
    return offline_list(uow, who.context("read"), since=since, after=after, limit=limit)


@router.post("/gates/{gate_id}/offline-events")
def post_offline_events(gate_id: int, body: OfflineUpload, request: Request, who: Who, uow: Uow) -> OfflineUploadView:
    """Upload what the gate decided offline, in its journal's order. Each event is applied once (its tap id
    is the tap's idempotency key) and only right after the gate's last applied number; a batch that leaves a
    gap is refused with `offline-sequence-gap` and nothing of it is applied."""
    require_json(request)
    _as_gate(who.device.device_id, gate_id)
    return apply_offline_events(uow, who.context("offline-upload"), body.events)


@router.get("/gates/{gate_id}/offline-events")
def get_offline_status(gate_id: int, who: Who, uow: Uow) -> OfflineStatusView:
    """The gate's last applied offline sequence number: the next upload starts right after it."""
    _as_gate(who.device.device_id, gate_id)
    return offline_status(uow, who.context("read"))


@router.get("/access-events")
def get_access_events(
    who: Who,
    uow: Uow,
    denied_only: bool = False,
    flagged_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=MAX_EVENTS)] = 50,
) -> list[AccessEventView]:
    """The entry view: newest gate events; failed exits carry the tab ids to open at the till, and passages
    a gate allowed offline that the server found wrong carry a `flag` (`flagged_only` lists just those)."""
    return list_access_events(uow, who.context("read"), denied_only=denied_only, flagged_only=flagged_only, limit=limit)
