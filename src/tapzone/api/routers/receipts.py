"""Stored receipts, exactly as issued: as JSON, or rendered for a printer (ESC/POS), a screen (HTML) or a PDF."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from tapzone.api.deps import Uow, Who
from tapzone.pos.receipts.issue import load_receipt
from tapzone.pos.receipts.model import Receipt
from tapzone.pos.receipts.render import MEDIA_TYPES, render

router = APIRouter(tags=["receipts"])


@router.get("/receipts/{receipt_id}", response_model=Receipt)
def get_receipt(
    receipt_id: int,
    who: Who,
    uow: Uow,
    fmt: Annotated[Literal["json", "html", "escpos", "pdf"], Query(alias="format")] = "json",
) -> Response:
    """`format=json` (the receipt model), `html`, `escpos` (printer bytes) or `pdf`."""
    receipt, timezone = load_receipt(uow, who.context("read"), receipt_id=receipt_id)
    if fmt == "json":
        return Response(receipt.model_dump_json(), media_type="application/json")
    return Response(render(receipt, fmt, timezone), media_type=MEDIA_TYPES[fmt])
