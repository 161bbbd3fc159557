"""Zones and the gates guarding them; a new gate's token is shown once, right after it was created."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tapzone.access import configure
from tapzone.access.listing import list_gates, list_zones
from tapzone.access.model import Direction, ServiceType
from tapzone.access.setup import DEFAULT_OPEN_MS
from tapzone.store.paging import PAGE_SIZE_MAX
from tapzone.venues.configure import Issued
from tapzone.venues.model import GATE_KINDS, DeviceKind
from tapzone.web.office.common import (
    Office,
    OfficeForm,
    Outcome,
    attempt,
    guarded,
    office_page,
    pager_links,
    paging,
    read_form,
)
from tapzone.web.session import uow_of

router = APIRouter(include_in_schema=False)
Posted = Annotated[dict[str, list[str]], Depends(read_form)]
GATE_KIND_CHOICES = sorted(kind.value for kind in GATE_KINDS)


def _zones(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    limit, offset = paging(request)
    page = list_zones(uow_of(request), office.who.context(), limit=limit, offset=offset)
    return office_page(
        request,
        office,
        "office/zones.html",
        title="Zones",
        outcome=outcome,
        page=page,
        links=pager_links(request, page, "/office/zones"),
        service_types=[kind.value for kind in ServiceType],
    )


@router.get("/office/zones")
def zones_page(request: Request) -> Response:
    return guarded(request, lambda office: _zones(request, office))


@router.post("/office/zones")
def add_zone(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        name = form.text("name")
        service_type = form.choice("service_type", ServiceType)
        done, outcome = attempt(
            form,
            "zone",
            lambda: configure.create_zone(
                uow_of(request), form.context(office), name=name or "", service_type=service_type or ServiceType.PAID
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Zone {name} created", {"name": name}
        return _zones(request, office, outcome)

    return guarded(request, show)


def _gates(request: Request, office: Office, outcome: Outcome | None = None, issued: Issued | None = None) -> Response:
    limit, offset = paging(request)
    zone_text = request.query_params.get("zone", "")
    zone_id = int(zone_text) if zone_text.isdigit() else None
    uow, ctx = uow_of(request), office.who.context()
    page = list_gates(uow, ctx, zone_id=zone_id, limit=limit, offset=offset)
    zones = list_zones(uow, ctx, limit=PAGE_SIZE_MAX, offset=0).items
    return office_page(
        request,
        office,
        "office/gates.html",
        title="Gates",
        outcome=outcome,
        page=page,
        links=pager_links(request, page, "/office/gates"),
        zone_options=[(zone.id, zone.name) for zone in zones],
        zone_id=zone_id,
        gate_kinds=GATE_KIND_CHOICES,
        directions=[direction.value for direction in Direction],
        default_open_ms=DEFAULT_OPEN_MS,
        token=issued.token if issued else None,
        replayed=issued is not None and issued.token is None,
    )


@router.get("/office/gates")
def gates_page(request: Request) -> Response:
    return guarded(request, lambda office: _gates(request, office))


@router.post("/office/gates")
def add_gate(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        name = form.text("name")
        kind = form.one_of("kind", GATE_KIND_CHOICES)
        zone_id = form.identifier("zone_id")
        direction = form.choice("direction", Direction)
        open_ms = form.number("open_ms", low=100, high=60_000, required=False)
        done, outcome = attempt(
            form,
            "gate",
            lambda: configure.add_gate(
                uow_of(request),
                form.context(office),
                name=name or "",
                kind=DeviceKind(kind or DeviceKind.TURNSTILE.value),
                zone_id=zone_id or 0,
                direction=direction or Direction.IN,
                open_ms=open_ms or DEFAULT_OPEN_MS,
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Gate {name} created", {"name": name}
        return _gates(request, office, outcome, done)

    return guarded(request, show)
