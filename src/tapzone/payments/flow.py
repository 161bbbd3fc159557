"""Cashless payments: nothing is booked and no receipt issued before the money is approved (seed 003).

A use case that takes a card (or bank-transfer) tender calls `card_gate` right after planning its tenders.
Without an approved payment the gate stops the use case with `CardPaymentRequired`; the `card_payable`
decorator around the use case then opens a pending payment (its own transaction, keyed by the request's
idempotency key) and
- for an integrated terminal (ZVT, simulator) asks the terminal outside any database transaction, records
  the answer and, if approved, runs the use case again with the payment, which now books;
- for a standalone terminal or a payment without terminal returns the pending payment with the instruction
  to key in exactly that amount; the cashier's confirmation with the approved amount runs the stored
  operation later (`confirm_payment`). A different amount is refused and changes nothing.
A timeout or a dropped connection leaves the payment pending — never booked, never lost — until a status
inquiry or a reversal resolves it.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel

from tapzone.context import RequestContext
from tapzone.errors import (
    CardDeclined,
    Conflict,
    NotFound,
    PaymentAmountMismatch,
    PaymentPending,
    PermissionDenied,
    TapzoneError,
)
from tapzone.payments.codec import decode_kwargs, encode_kwargs
from tapzone.payments.model import CONFIRMED_BY_CASHIER, PaymentState, PaymentView, TerminalKind
from tapzone.payments.terminal import Outcome, TerminalResult
from tapzone.payments.terminals import Terminal, connect, resolve_terminal
from tapzone.pos.tenders import TenderPlan
from tapzone.store.tables import payment_terminals, payments
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.model import Venue
from tapzone.venues.repo import load_venue

P = ParamSpec("P")
R = TypeVar("R", bound=BaseModel)

# Operations a payment can pay for, by name: filled by the `card_payable` decorator at import time.
OPERATIONS: dict[str, Callable[..., BaseModel]] = {}


class CardPaymentRequired(Exception):
    def __init__(self, terminal: Terminal, amount_minor: int, currency: str) -> None:
        super().__init__(f"{amount_minor} {currency} by {terminal.name}")
        self.terminal = terminal
        self.amount_minor = amount_minor
        self.currency = currency


def card_gate(tx: Tx, ctx: RequestContext, venue: Venue, plan: TenderPlan) -> TenderPlan:
    """Let a tender plan with a card part through only with this request's approved payment; name the
    terminal's clearing account after the terminal that took the money."""
    if not plan.card_by_provider:
        return plan
    if len(plan.card_by_provider) > 1:
        raise Conflict("one cashless payment per operation; pay the rest in cash or prepaid value")
    ((requested, amount),) = plan.card_by_provider.items()
    terminal = resolve_terminal(tx, ctx.device_id, requested)
    if ctx.payment_id is None:
        raise CardPaymentRequired(terminal, amount, venue.currency)
    rows = tx.lock_rows(payments, [ctx.payment_id])
    if not rows:
        raise NotFound(f"payment {ctx.payment_id} does not exist")
    payment = rows[0]
    if (
        payment.state != PaymentState.APPROVED.value
        or payment.device_id != ctx.device_id
        or payment.terminal_id != terminal.id
        or payment.amount_minor != amount
    ):
        raise PaymentAmountMismatch("the approved payment does not match this operation")
    tx.conn.execute(payments.update().where(payments.c.id == payment.id).values(state=PaymentState.BOOKED.value))
    return dataclasses.replace(plan, card_by_provider={terminal.name: amount})


def card_payable(
    operation: str,
) -> Callable[
    [Callable[Concatenate[UnitOfWork, RequestContext, P], R]], Callable[Concatenate[UnitOfWork, RequestContext, P], R]
]:
    """Make a use case with cashless tenders wait for the money (see the module docstring)."""

    def wrap(
        use_case: Callable[Concatenate[UnitOfWork, RequestContext, P], R],
    ) -> Callable[Concatenate[UnitOfWork, RequestContext, P], R]:
        OPERATIONS[operation] = use_case

        @functools.wraps(use_case)
        def run(uow: UnitOfWork, ctx: RequestContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return use_case(uow, ctx, *args, **kwargs)
            except CardPaymentRequired as need:
                payment = _open_payment(uow, ctx, need, operation, dict(kwargs))
            return _collect(uow, ctx, payment, lambda paid: use_case(uow, paid, *args, **kwargs))

        return run

    return wrap


def _open_payment(
    uow: UnitOfWork, ctx: RequestContext, need: CardPaymentRequired, operation: str, kwargs: dict[str, Any]
) -> sa.Row[Any]:
    """The pending payment of this request: opened once; a retried request finds the same one."""
    stored = encode_kwargs(kwargs)
    with uow.transaction() as tx:
        existing = _payment_for_key(tx, ctx)
        if existing is not None:
            return existing
        tx.conn.execute(
            tx.insert_for(payments)
            .values(
                venue_id=ctx.venue_id,
                device_id=ctx.device_id,
                terminal_id=need.terminal.id,
                operator_id=ctx.operator_id,
                idempotency_key=ctx.idempotency_key,
                amount_minor=need.amount_minor,
                currency=need.currency,
                state=PaymentState.PENDING.value,
                operation=operation,
                operation_payload=stored,
                created_at=tx.now,
            )
            .on_conflict_do_nothing(index_elements=["device_id", "idempotency_key"])
        )
        row = _payment_for_key(tx, ctx)
        assert row is not None
        return row


def _payment_for_key(tx: Tx, ctx: RequestContext) -> sa.Row[Any] | None:
    return tx.conn.execute(
        sa.select(payments).where(
            payments.c.device_id == ctx.device_id, payments.c.idempotency_key == ctx.idempotency_key
        )
    ).first()


def _terminal_of(tx: Tx, payment: sa.Row[Any]) -> Terminal:
    row = tx.conn.execute(sa.select(payment_terminals).where(payment_terminals.c.id == payment.terminal_id)).one()
    return Terminal.from_row(row)


def _collect(uow: UnitOfWork, ctx: RequestContext, payment: sa.Row[Any], book: Callable[[RequestContext], R]) -> R:
    with uow.transaction() as tx:
        terminal = _terminal_of(tx, payment)
        language = load_venue(tx, ctx.venue_id).language
    state = PaymentState(payment.state)
    if state is PaymentState.PENDING and terminal.kind not in CONFIRMED_BY_CASHIER:
        result = connect(terminal).authorise(payment.amount_minor, payment.currency, reference=str(payment.id))
        payment = _record(uow, payment.id, result)
        state = PaymentState(payment.state)
    if state in (PaymentState.APPROVED, PaymentState.BOOKED):
        return _book(uow, ctx, payment, terminal, book)
    if state in (PaymentState.DECLINED, PaymentState.CANCELLED):
        raise CardDeclined(f"the card payment did not go through: {payment.detail or state.value}")
    if state is PaymentState.PENDING:
        raise PaymentPending(PaymentView.from_row(payment, terminal, language))
    raise Conflict(f"payment {payment.id} is {state.value}")


def _record(uow: UnitOfWork, payment_id: int, result: TerminalResult) -> sa.Row[Any]:
    """Keep what the terminal said. Approved and declined are final; anything else leaves it pending."""
    state = {
        Outcome.APPROVED: PaymentState.APPROVED,
        Outcome.DECLINED: PaymentState.DECLINED,
        Outcome.ABORTED: PaymentState.CANCELLED,
        Outcome.ERROR: PaymentState.CANCELLED,  # the terminal did not run it: nothing was taken
    }.get(result.outcome, PaymentState.PENDING)
    with uow.transaction() as tx:
        (row,) = tx.lock_rows(payments, [payment_id])
        if row.state != PaymentState.PENDING.value:  # resolved meanwhile (status inquiry from another till)
            return row
        tx.conn.execute(
            payments.update()
            .where(payments.c.id == payment_id)
            .values(
                state=state.value,
                resolved_at=tx.now if state is not PaymentState.PENDING else None,
                approved_amount_minor=result.approved_amount_minor,
                terminal_reference=result.reference,
                slip_number=result.receipt_number,  # printed on the terminal's slip ("Beleg-Nr.")
                detail=result.text[:500],
            )
        )
        return tx.conn.execute(sa.select(payments).where(payments.c.id == payment_id)).one()


def _book(
    uow: UnitOfWork, ctx: RequestContext, payment: sa.Row[Any], terminal: Terminal, book: Callable[[RequestContext], R]
) -> R:
    """Run the operation with the approved payment. If it cannot be booked now (the tab changed meanwhile),
    the money goes back: reversed on an integrated terminal, flagged for the cashier on a standalone one."""
    paid = dataclasses.replace(ctx, payment_id=payment.id, idempotency_key=payment.idempotency_key)
    try:
        return book(paid)
    except TapzoneError as error:
        if payment.state == PaymentState.APPROVED.value:
            _undo(uow, payment, terminal, error)
        raise


def _undo(uow: UnitOfWork, payment: sa.Row[Any], terminal: Terminal, error: TapzoneError) -> None:
    if terminal.kind in CONFIRMED_BY_CASHIER:
        state, detail = PaymentState.FAILED, f"not booked ({error.detail}); refund it on the terminal"
    else:
        result = connect(terminal).reverse(payment.terminal_reference or str(payment.id))
        reversed_ok = result.outcome is Outcome.APPROVED
        state = PaymentState.REVERSED if reversed_ok else PaymentState.FAILED
        detail = f"not booked ({error.detail}); " + ("reversed" if reversed_ok else f"reversal failed: {result.text}")
    with uow.transaction() as tx:
        tx.conn.execute(
            payments.update()
            .where(payments.c.id == payment.id)
            .values(state=state.value, detail=detail[:500], resolved_at=tx.now)
        )


def _pending_for(tx: Tx, ctx: RequestContext, payment_id: int) -> sa.Row[Any]:
    rows = tx.lock_rows(payments, [payment_id])
    if not rows or rows[0].venue_id != ctx.venue_id:
        raise NotFound(f"payment {payment_id} does not exist")
    if rows[0].device_id != ctx.device_id:
        raise PermissionDenied("a payment is resolved at the till that took it")
    return rows[0]


def _replay(uow: UnitOfWork, ctx: RequestContext, payment: sa.Row[Any]) -> BaseModel:
    use_case = OPERATIONS[payment.operation]
    kwargs = decode_kwargs(payment.operation_payload)
    paid = dataclasses.replace(ctx, payment_id=payment.id, idempotency_key=payment.idempotency_key)
    with uow.transaction() as tx:
        terminal = _terminal_of(tx, payment)
    return _book(uow, paid, payment, terminal, lambda c: use_case(uow, c, **kwargs))


def confirm_payment(
    uow: UnitOfWork,
    ctx: RequestContext,
    *,
    payment_id: int,
    approved_amount_minor: int,
    slip_number: str | None = None,
) -> BaseModel:
    """seed 003: the cashier took the card payment on the standalone terminal and enters the approved
    amount; only now is the operation booked and its receipt issued. A different amount is refused."""
    with uow.transaction() as tx:
        payment = _pending_for(tx, ctx, payment_id)
        terminal = _terminal_of(tx, payment)
        if terminal.kind not in CONFIRMED_BY_CASHIER:
            raise Conflict("an integrated terminal reports its own result; ask it with a status inquiry")
        if payment.state == PaymentState.PENDING.value:
            if approved_amount_minor != payment.amount_minor:
                raise PaymentAmountMismatch(
                    f"the terminal approved {approved_amount_minor}, but {payment.amount_minor} was due; "
                    "reverse the payment on the terminal and take the right amount"
                )
            tx.conn.execute(
                payments.update()
                .where(payments.c.id == payment_id)
                .values(
                    state=PaymentState.APPROVED.value,
                    approved_amount_minor=approved_amount_minor,
                    slip_number=slip_number,
                    resolved_at=tx.now,
                )
            )
        elif payment.state not in (PaymentState.APPROVED.value, PaymentState.BOOKED.value):
            raise Conflict(f"payment {payment_id} is {payment.state}")
        payment = tx.conn.execute(sa.select(payments).where(payments.c.id == payment_id)).one()
    return _replay(uow, ctx, payment)


def close_payment(uow: UnitOfWork, ctx: RequestContext, *, payment_id: int, declined: bool) -> PaymentView:
    """The terminal declined, or the cashier cancelled: nothing is booked, the tab stays unpaid."""
    with uow.transaction() as tx:
        payment = _pending_for(tx, ctx, payment_id)
        terminal = _terminal_of(tx, payment)
        language = load_venue(tx, ctx.venue_id).language
        if payment.state != PaymentState.PENDING.value:
            raise Conflict(f"payment {payment_id} is {payment.state}")
        if terminal.kind not in CONFIRMED_BY_CASHIER:
            raise Conflict("a pending payment of an integrated terminal is resolved by status inquiry or reversal")
        state = PaymentState.DECLINED if declined else PaymentState.CANCELLED
        tx.conn.execute(
            payments.update().where(payments.c.id == payment_id).values(state=state.value, resolved_at=tx.now)
        )
        row = tx.conn.execute(sa.select(payments).where(payments.c.id == payment_id)).one()
        return PaymentView.from_row(row, terminal, language)


def resolve_with_terminal(uow: UnitOfWork, ctx: RequestContext, *, payment_id: int, reverse: bool) -> BaseModel:
    """A pending payment of an integrated terminal (timeout, dropped connection): ask the terminal what
    happened and book if it was approved, or reverse whatever it did."""
    with uow.transaction() as tx:
        payment = _pending_for(tx, ctx, payment_id)
        terminal = _terminal_of(tx, payment)
        language = load_venue(tx, ctx.venue_id).language
    if terminal.kind in CONFIRMED_BY_CASHIER:
        raise Conflict("a standalone terminal's payment is confirmed, declined or cancelled by the cashier")
    if payment.state != PaymentState.PENDING.value:
        raise Conflict(f"payment {payment_id} is {payment.state}")
    adapter = connect(terminal)
    if reverse:
        result = adapter.reverse(payment.terminal_reference or str(payment.id))
        final = PaymentState.REVERSED if result.outcome is Outcome.APPROVED else PaymentState.PENDING
        with uow.transaction() as tx:
            tx.conn.execute(
                payments.update()
                .where(payments.c.id == payment_id, payments.c.state == PaymentState.PENDING.value)
                .values(
                    state=final.value,
                    detail=result.text[:500],
                    resolved_at=tx.now if final is not PaymentState.PENDING else None,
                )
            )
            row = tx.conn.execute(sa.select(payments).where(payments.c.id == payment_id)).one()
        return PaymentView.from_row(row, terminal, language)
    status = adapter.status(reference=str(payment.id))
    payment = _record(uow, payment_id, status)
    if payment.state == PaymentState.APPROVED.value:
        return _replay(uow, ctx, payment)
    return PaymentView.from_row(payment, terminal, language)


def view_payment(uow: UnitOfWork, ctx: RequestContext, *, payment_id: int) -> PaymentView:
    with uow.transaction() as tx:
        row = tx.conn.execute(
            sa.select(payments).where(payments.c.id == payment_id, payments.c.venue_id == ctx.venue_id)
        ).first()
        if row is None:
            raise NotFound(f"payment {payment_id} does not exist")
        if row.device_id != ctx.device_id:  # like resolving it: another device of the venue learns nothing
            raise PermissionDenied("a payment is shown at the till that took it")
        return PaymentView.from_row(row, _terminal_of(tx, row), load_venue(tx, ctx.venue_id).language)


__all__ = [
    "OPERATIONS",
    "CardPaymentRequired",
    "TerminalKind",
    "card_gate",
    "card_payable",
    "close_payment",
    "confirm_payment",
    "resolve_with_terminal",
    "view_payment",
]
