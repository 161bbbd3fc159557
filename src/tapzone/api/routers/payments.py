"""Cashless payments and the card terminals of a till (seed 003).

A write with a card tender answers 202 with the pending payment when the money is not approved yet; the
routes here resolve it. Confirming a standalone terminal's payment answers with the booked operation.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field, StrictInt

from tapzone.api.deps import Uow, Who, Write
from tapzone.api.schemas import Body
from tapzone.payments.flow import close_payment, confirm_payment, resolve_with_terminal, view_payment
from tapzone.payments.model import PaymentView, TerminalKind
from tapzone.payments.terminals import TerminalView, configure_terminal, list_terminals, set_default_terminal

router = APIRouter(tags=["payments"])

_ANSWERS: dict[int | str, dict[str, Any]] = {
    201: {"description": "the payment is approved and the operation it pays for is booked (its own response)"},
    202: {"description": "still pending", "model": PaymentView},
}


def _answer(result: Any) -> JSONResponse:
    status = 202 if isinstance(result, PaymentView) and result.state == "pending" else 201
    if isinstance(result, PaymentView) and result.state != "pending":
        status = 200
    return JSONResponse(result.model_dump(mode="json"), status_code=status)


@router.get("/payments/{payment_id}")
def get_payment(payment_id: int, who: Who, uow: Uow) -> PaymentView:
    return view_payment(uow, who.context("read"), payment_id=payment_id)


class Confirmation(Body):
    approved_amount_minor: Annotated[StrictInt, Field(ge=1)]
    slip_number: Annotated[str, Field(min_length=1, max_length=32)] | None = None


@router.post("/payments/{payment_id}/confirmation", status_code=201, responses=_ANSWERS)
def post_confirmation(payment_id: int, body: Confirmation, ctx: Write, uow: Uow) -> JSONResponse:
    """The cashier took the payment on the standalone terminal: enter exactly the approved amount. Books the
    operation and issues its receipt; a different amount is refused and changes nothing."""
    result = confirm_payment(
        uow, ctx, payment_id=payment_id, approved_amount_minor=body.approved_amount_minor, slip_number=body.slip_number
    )
    return _answer(result)


@router.post("/payments/{payment_id}/decline")
def post_decline(payment_id: int, ctx: Write, uow: Uow) -> PaymentView:
    """The standalone terminal declined the card: nothing is booked, the tab stays unpaid."""
    return close_payment(uow, ctx, payment_id=payment_id, declined=True)


@router.post("/payments/{payment_id}/cancel")
def post_cancel(payment_id: int, ctx: Write, uow: Uow) -> PaymentView:
    return close_payment(uow, ctx, payment_id=payment_id, declined=False)


@router.post("/payments/{payment_id}/status-inquiry", responses=_ANSWERS)
def post_status_inquiry(payment_id: int, ctx: Write, uow: Uow) -> JSONResponse:
    """Ask an integrated terminal what became of a payment left pending by a timeout; books it if approved."""
    return _answer(resolve_with_terminal(uow, ctx, payment_id=payment_id, reverse=False))


@router.post("/payments/{payment_id}/reversal", responses=_ANSWERS)
def post_reversal(payment_id: int, ctx: Write, uow: Uow) -> JSONResponse:
    """Reverse a pending payment on the integrated terminal, whatever it did."""
    return _answer(resolve_with_terminal(uow, ctx, payment_id=payment_id, reverse=True))


class TerminalIn(Body):
    name: Annotated[str, Field(min_length=1, max_length=32)]
    kind: TerminalKind
    host: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    port: Annotated[StrictInt, Field(ge=1, le=65535)] | None = None
    password: Annotated[str, Field(pattern=r"^[0-9]{6}$")] | None = None
    is_default: bool = False


@router.post("/tills/{device_id}/terminals", status_code=201)
def post_terminal(device_id: int, body: TerminalIn, ctx: Write, uow: Uow) -> TerminalView:
    """Configure a card terminal (standalone, integrated ZVT, none, simulator) on a till."""
    return configure_terminal(uow, ctx, device_id=device_id, **body.model_dump())


@router.get("/tills/{device_id}/terminals")
def get_terminals(device_id: int, who: Who, uow: Uow) -> list[TerminalView]:
    return list_terminals(uow, who.context("read"), device_id=device_id)


class DefaultTerminal(Body):
    name: Annotated[str, Field(min_length=1, max_length=32)]


@router.put("/tills/{device_id}/default-terminal")
def put_default_terminal(device_id: int, body: DefaultTerminal, ctx: Write, uow: Uow) -> TerminalView:
    """seed 003 "use by default": the terminal card tenders use unless they name another."""
    return set_default_terminal(uow, ctx, device_id=device_id, name=body.name)
