"""Tills and other devices: their tokens (a new one is shown once), a till's card terminals and its
paying-with-the-medium override."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tapzone.payments.model import TerminalKind
from tapzone.payments.terminals import configure_terminal, list_terminals, set_default_terminal
from tapzone.venues import configure
from tapzone.venues.configure import PLAIN_DEVICE_KINDS, TOKENLESS_KINDS, Issued
from tapzone.venues.listing import list_devices, read_device
from tapzone.venues.model import DeviceKind
from tapzone.venues.settings import set_till_payment
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
PLAIN_KINDS = sorted(kind.value for kind in PLAIN_DEVICE_KINDS)
ALL_KINDS = [kind.value for kind in DeviceKind]
# Devices that take card payments and so have terminals (payments.terminals refuses the others).
PAYING_KINDS = frozenset({DeviceKind.TILL.value, DeviceKind.MOBILE.value, DeviceKind.KIOSK.value})


def _devices(
    request: Request, office: Office, outcome: Outcome | None = None, issued: Issued | None = None
) -> Response:
    limit, offset = paging(request)
    kind = request.query_params.get("kind") or None
    page = list_devices(
        uow_of(request),
        office.who.context(),
        kinds=frozenset({kind}) if kind in ALL_KINDS else None,
        limit=limit,
        offset=offset,
    )
    return office_page(
        request,
        office,
        "office/devices.html",
        title="Tills and devices",
        outcome=outcome,
        page=page,
        links=pager_links(request, page, "/office/devices"),
        kind=kind,
        all_kinds=ALL_KINDS,
        plain_kinds=PLAIN_KINDS,
        token=issued.token if issued else None,
        replayed=issued is not None and issued.token is None,
        new_device_id=issued.device_id if issued else None,
    )


@router.get("/office/devices")
def devices_page(request: Request) -> Response:
    return guarded(request, lambda office: _devices(request, office))


@router.post("/office/devices")
def add_device(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        name = form.text("name")
        kind = form.one_of("kind", PLAIN_KINDS)
        done, outcome = attempt(
            form,
            "device",
            lambda: configure.add_device(
                uow_of(request), form.context(office), name=name or "", kind=DeviceKind(kind or DeviceKind.TILL)
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Device {name} created", {"name": name}
        return _devices(request, office, outcome, done)

    return guarded(request, show)


def _device(
    request: Request, office: Office, device_id: int, outcome: Outcome | None = None, issued: Issued | None = None
) -> Response:
    uow, ctx = uow_of(request), office.who.context()
    device = read_device(uow, ctx, device_id=device_id)
    terminals = list_terminals(uow, ctx, device_id=device_id) if device.kind in PAYING_KINDS else []
    return office_page(
        request,
        office,
        "office/device.html",
        title="Tills and devices",
        outcome=outcome,
        device=device,
        terminals=terminals,
        has_terminals=device.kind in PAYING_KINDS,
        takes_tokens=device.kind not in TOKENLESS_KINDS,
        own_device=device.id == office.who.device.device_id,
        terminal_kinds=[kind.value for kind in TerminalKind],
        token=issued.token if issued else None,
        replayed=issued is not None and issued.token is None,
    )


@router.get("/office/devices/{device_id}")
def device_page(request: Request, device_id: int) -> Response:
    return guarded(request, lambda office: _device(request, office, device_id))


@router.post("/office/devices/{device_id}/tokens")
def new_token(request: Request, device_id: int, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        done, outcome = attempt(
            form,
            "token",
            lambda: configure.issue_token(
                uow_of(request), form.context(office), device_id=device_id, revoke_earlier=form.flag("revoke_earlier")
            ),
        )
        if done is not None:
            outcome.notice = "New token issued"
        return _device(request, office, device_id, outcome, done)

    return guarded(request, show)


@router.post("/office/devices/{device_id}/pay-with-medium")
def till_payment(request: Request, device_id: int, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        choice = form.one_of("pay_with_medium", ("venue", "on", "off"))
        setting = None if choice == "venue" else choice == "on"
        done, outcome = attempt(
            form,
            "payment",
            lambda: set_till_payment(uow_of(request), form.context(office), till_id=device_id, pay_with_medium=setting),
        )
        if done is not None:
            outcome.notice = "Settings saved"
        return _device(request, office, device_id, outcome)

    return guarded(request, show)


@router.post("/office/devices/{device_id}/terminals")
def add_terminal(request: Request, device_id: int, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        name = form.text("name", max_length=32)
        kind = form.choice("kind", TerminalKind)
        host = form.text("host", required=False, max_length=255)
        port = form.number("port", low=1, high=65535, required=False)
        password = form.text("password", required=False, max_length=6)
        done, outcome = attempt(
            form,
            "terminal",
            lambda: configure_terminal(
                uow_of(request),
                form.context(office),
                device_id=device_id,
                name=name or "",
                kind=kind or TerminalKind.STANDALONE,
                host=host,
                port=port,
                password=password,
                is_default=form.flag("is_default"),
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Terminal {name} added", {"name": name}
        return _device(request, office, device_id, outcome)

    return guarded(request, show)


@router.post("/office/devices/{device_id}/default-terminal")
def default_terminal(request: Request, device_id: int, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        name = form.text("name", max_length=32)
        done, outcome = attempt(
            form,
            "default",
            lambda: set_default_terminal(uow_of(request), form.context(office), device_id=device_id, name=name or ""),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "{name} is now the default terminal", {"name": name}
        return _device(request, office, device_id, outcome)

    return guarded(request, show)
