"""The card terminals configured per till (seed 003: several may be set up, one is used by default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import Conflict, InvalidRequest, NoCardTerminal, NotFound
from tapzone.payments.model import TerminalKind
from tapzone.payments.terminal import CardTerminal, SimulatedTerminal, ZvtTerminal
from tapzone.pos.tenders import DEFAULT_CARD_PROVIDER
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import devices, payment_terminals
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import DeviceKind
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

ZVT_DEFAULT_PORT = 20007


@dataclass(frozen=True, slots=True)
class Terminal:
    id: int
    device_id: int
    name: str
    kind: TerminalKind
    host: str | None
    port: int | None
    password: str | None
    is_default: bool

    @staticmethod
    def from_row(row: sa.Row[Any]) -> Terminal:
        return Terminal(
            id=row.id,
            device_id=row.device_id,
            name=row.name,
            kind=TerminalKind(row.kind),
            host=row.host,
            port=row.port,
            password=row.password,
            is_default=row.is_default,
        )


def resolve_terminal(tx: Tx, device_id: int, requested: str) -> Terminal:
    """The till's terminal by name, or its default one when the tender names none."""
    query = sa.select(payment_terminals).where(
        payment_terminals.c.device_id == device_id, payment_terminals.c.active.is_(True)
    )
    if requested == DEFAULT_CARD_PROVIDER:
        query = query.where(payment_terminals.c.is_default.is_(True))
    else:
        query = query.where(payment_terminals.c.name == requested)
    row = tx.conn.execute(query).first()
    if row is None:
        what = "no default card terminal" if requested == DEFAULT_CARD_PROVIDER else f"no terminal {requested!r}"
        raise NoCardTerminal(f"this till has {what}; configure one (seed 003) or take another tender")
    return Terminal.from_row(row)


def connect(terminal: Terminal) -> CardTerminal:
    """The adapter that talks to this terminal; standalone and no-terminal payments have none."""

    if terminal.kind is TerminalKind.SIMULATOR:
        return SimulatedTerminal()
    if terminal.kind is TerminalKind.INTEGRATED_ZVT:
        assert terminal.host is not None
        return ZvtTerminal(terminal.host, terminal.port or ZVT_DEFAULT_PORT, terminal.password or "000000")
    raise InvalidRequest(f"a {terminal.kind.value} terminal is not driven by tapzone")


class TerminalView(BaseModel):
    id: int
    device_id: int
    name: str
    kind: str
    host: str | None
    port: int | None
    is_default: bool


def _view(terminal: Terminal) -> TerminalView:
    return TerminalView(
        id=terminal.id,
        device_id=terminal.device_id,
        name=terminal.name,
        kind=terminal.kind.value,
        host=terminal.host,
        port=terminal.port,
        is_default=terminal.is_default,
    )


def _check(kind: TerminalKind, name: str, host: str | None, port: int | None, password: str | None) -> None:
    if not 1 <= len(name) <= 32 or name == DEFAULT_CARD_PROVIDER:
        raise InvalidRequest(f"a terminal name is 1..32 characters and not {DEFAULT_CARD_PROVIDER!r}")
    if kind is TerminalKind.INTEGRATED_ZVT and not host:
        raise InvalidRequest("an integrated ZVT terminal needs its host (and port)")
    if kind is not TerminalKind.INTEGRATED_ZVT and (host or port or password):
        raise InvalidRequest("only an integrated ZVT terminal has host, port and password")
    if port is not None and not 1 <= port <= 65535:
        raise InvalidRequest("port must be 1..65535")
    if password is not None and (len(password) != 6 or not password.isdigit()):
        raise InvalidRequest("the ZVT password is six digits")


def _insert(
    tx: Tx,
    venue_id: int,
    device_id: int,
    *,
    name: str,
    kind: TerminalKind,
    host: str | None,
    port: int | None,
    password: str | None,
    is_default: bool,
) -> Terminal:
    till = tx.conn.execute(
        sa.select(devices.c.kind).where(devices.c.id == device_id, devices.c.venue_id == venue_id)
    ).scalar_one_or_none()
    if till is None:
        raise NotFound(f"device {device_id} does not exist in this venue")
    if till not in (DeviceKind.TILL.value, DeviceKind.MOBILE.value, DeviceKind.KIOSK.value):
        raise InvalidRequest("card terminals belong to tills, kiosks and mobile devices")
    taken = tx.conn.execute(
        sa.select(payment_terminals.c.id).where(
            payment_terminals.c.device_id == device_id, payment_terminals.c.name == name
        )
    ).first()
    if taken is not None:
        raise Conflict(f"this till already has a terminal {name!r}")
    has_default = tx.conn.execute(
        sa.select(payment_terminals.c.id).where(
            payment_terminals.c.device_id == device_id, payment_terminals.c.is_default.is_(True)
        )
    ).first()
    if is_default and has_default is not None:
        tx.conn.execute(
            payment_terminals.update().where(payment_terminals.c.device_id == device_id).values(is_default=False)
        )
    terminal_id: int = tx.conn.execute(
        payment_terminals.insert()
        .values(
            venue_id=venue_id,
            device_id=device_id,
            name=name,
            kind=kind.value,
            host=host,
            port=port,
            password=password,
            # The first terminal of a till is its default (seed 003), until another is chosen.
            is_default=is_default or has_default is None,
            created_at=tx.now,
        )
        .returning(payment_terminals.c.id)
    ).scalar_one()
    row = tx.conn.execute(sa.select(payment_terminals).where(payment_terminals.c.id == terminal_id)).one()
    return Terminal.from_row(row)


def add_terminal(
    uow: UnitOfWork,
    venue_id: int,
    device_id: int,
    *,
    name: str,
    kind: TerminalKind,
    host: str | None = None,
    port: int | None = None,
    password: str | None = None,
    is_default: bool = False,
) -> int:
    """Set-up path for the CLI, the demo and tests."""
    kind = TerminalKind(kind)
    _check(kind, name, host, port, password)
    with uow.transaction() as tx:
        return _insert(
            tx,
            venue_id,
            device_id,
            name=name,
            kind=kind,
            host=host,
            port=port,
            password=password,
            is_default=is_default,
        ).id


def configure_terminal(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    device_id: int,
    name: str,
    kind: TerminalKind,
    host: str | None = None,
    port: int | None = None,
    password: str | None = None,
    is_default: bool = False,
) -> TerminalView:
    kind = TerminalKind(kind)
    _check(kind, name, host, port, password)
    payload = {
        "device_id": device_id,
        "name": name,
        "kind": kind.value,
        "host": host,
        "port": port,
        "password": password,
        "is_default": is_default,
    }

    def handler(tx: Tx) -> TerminalView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        terminal = _insert(
            tx,
            ctx.venue_id,
            device_id,
            name=name,
            kind=kind,
            host=host,
            port=port,
            password=password,
            is_default=is_default,
        )
        audit.record(tx, ctx, "terminal.configure", f"device:{device_id}", {**payload, "password": None})
        return _view(terminal)

    return run_idempotent(uow, ctx, "configure_terminal", payload, handler, TerminalView)


def set_default_terminal(uow: UnitOfWork, ctx: RequestContext, *, device_id: int, name: str) -> TerminalView:
    """seed 003 "использовать по умолчанию": the terminal a card tender uses unless it names another."""
    payload = {"device_id": device_id, "name": name}

    def handler(tx: Tx) -> TerminalView:
        authorise(tx, ctx, Permission.VENUE_CONFIGURE)
        terminal = resolve_terminal(tx, device_id, name)
        tx.conn.execute(
            payment_terminals.update()
            .where(payment_terminals.c.device_id == device_id)
            .values(is_default=payment_terminals.c.id == terminal.id)
        )
        audit.record(tx, ctx, "terminal.default", f"device:{device_id}", payload)
        return _view(
            Terminal.from_row(
                tx.conn.execute(sa.select(payment_terminals).where(payment_terminals.c.id == terminal.id)).one()
            )
        )

    return run_idempotent(uow, ctx, "set_default_terminal", payload, handler, TerminalView)


def list_terminals(uow: UnitOfWork, ctx: RequestContext, *, device_id: int) -> list[TerminalView]:
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.TAB_SETTLE)
        rows = tx.conn.execute(
            sa.select(payment_terminals)
            .where(payment_terminals.c.device_id == device_id, payment_terminals.c.venue_id == ctx.venue_id)
            .order_by(payment_terminals.c.id)
        ).all()
        return [_view(Terminal.from_row(row)) for row in rows]
