"""QR media (seed 004 "QR-Code Karten"): printed codes that carry a random token, not the medium's number.

The printed number (e.g. Q0123456789) is what a person types — with `medium.manual_entry` —; the code a
reader scans is `TZQ-<token>`. Regenerating a code draws a new token, so an old print (photographed, lost,
passed on) stops working at once while the medium, its visit and its value stay. That is the QR medium's
answer to a lost card: regenerate, or unload it and load another (seed 004); it is never "transferred".
"""

from __future__ import annotations

import io
import secrets

import segno
import sqlalchemy as sa
from fpdf import FPDF
from pydantic import BaseModel

from tapzone import audit
from tapzone.context import RequestContext
from tapzone.errors import InvalidRequest, NotFound
from tapzone.media.lookup import QR_PREFIX, find_medium
from tapzone.media.model import MediumKind, MediumState
from tapzone.store.idempotency import run_idempotent
from tapzone.store.tables import media
from tapzone.store.uow import Tx, UnitOfWork
from tapzone.venues.permissions import Permission
from tapzone.venues.repo import authorise

MAX_BATCH = 500
SHEET_COLUMNS = 3
SHEET_ROWS = 4
QR_SIDE_MM = 50.0


class QrMediumView(BaseModel):
    medium_uid: str
    qr_payload: str
    generation: int


class QrBatchView(BaseModel):
    media: list[QrMediumView]


def qr_payload(token: str) -> str:
    return QR_PREFIX + token


def _new_token() -> str:
    # 128 random bits in upper-case hex: readable by any scanner, and a valid medium UID as it stands.
    return secrets.token_hex(16).upper()


def _view(row: sa.Row[object]) -> QrMediumView:
    return QrMediumView(medium_uid=row.uid, qr_payload=qr_payload(row.qr_token), generation=row.qr_generation)


def generate_qr_media(uow: UnitOfWork, ctx: RequestContext, *, count: int) -> QrBatchView:
    """Register `count` new QR media in stock, each with its printed number and a fresh code."""
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
        raise InvalidRequest(f"generate 1..{MAX_BATCH} QR media at a time")

    def handler(tx: Tx) -> QrBatchView:
        authorise(tx, ctx, Permission.MEDIUM_ISSUE)
        created: list[QrMediumView] = []
        while len(created) < count:
            uid = f"Q{secrets.randbelow(10**10):010d}"
            if find_medium(tx, ctx.venue_id, uid) is not None:
                continue  # one in ten billion: draw again
            token = _new_token()
            tx.conn.execute(
                media.insert().values(
                    venue_id=ctx.venue_id,
                    uid=uid,
                    kind=MediumKind.QR.value,
                    state=MediumState.RETURNED.value,
                    created_at=tx.now,
                    qr_token=token,
                    qr_generation=1,
                )
            )
            created.append(QrMediumView(medium_uid=uid, qr_payload=qr_payload(token), generation=1))
        audit.record(tx, ctx, "medium.qr_generate", f"venue:{ctx.venue_id}", {"count": count})
        return QrBatchView(media=created)

    return run_idempotent(uow, ctx, "generate_qr_media", {"count": count}, handler, QrBatchView)


def _qr_medium(tx: Tx, venue_id: int, uid: str) -> sa.Row[object]:
    row = find_medium(tx, venue_id, uid)
    if row is None or row.kind != MediumKind.QR.value or row.qr_token is None:
        raise NotFound("no QR medium with this number")
    return row


def regenerate_qr_code(uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str, reason: str) -> QrMediumView:
    """Draw a new code for a QR medium; the old print is refused from now on (seed 004)."""
    if not reason.strip():
        raise InvalidRequest("a reason is required")
    payload = {"medium_uid": medium_uid, "reason": reason}

    def handler(tx: Tx) -> QrMediumView:
        authorise(tx, ctx, Permission.MEDIUM_TRANSFER)
        row = _qr_medium(tx, ctx.venue_id, medium_uid)
        (row,) = tx.lock_rows(media, [row.id])
        tx.conn.execute(
            media.update()
            .where(media.c.id == row.id)
            .values(qr_token=_new_token(), qr_generation=row.qr_generation + 1)
        )
        audit.record(tx, ctx, "medium.qr_regenerate", f"medium:{row.uid}", {"reason": reason})
        return _view(tx.conn.execute(sa.select(media).where(media.c.id == row.id)).one())

    return run_idempotent(uow, ctx, "regenerate_qr_code", payload, handler, QrMediumView)


def qr_image(uow: UnitOfWork, ctx: RequestContext, *, medium_uid: str, kind: str) -> bytes:
    """The medium's current code as PNG or SVG, for printing or showing on a phone."""
    if kind not in ("png", "svg"):
        raise InvalidRequest("the code comes as png or svg")
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.MEDIUM_ISSUE)
        row = _qr_medium(tx, ctx.venue_id, medium_uid)
    out = io.BytesIO()
    segno.make(qr_payload(row.qr_token), error="m").save(out, kind=kind, scale=8, border=4)
    return out.getvalue()


def qr_sheet(uow: UnitOfWork, ctx: RequestContext, *, medium_uids: list[str]) -> bytes:
    """An A4 PDF of codes with their printed numbers, twelve to a page, for cutting into cards."""
    if not 1 <= len(medium_uids) <= MAX_BATCH:
        raise InvalidRequest(f"print 1..{MAX_BATCH} codes at a time")
    with uow.transaction() as tx:
        authorise(tx, ctx, Permission.MEDIUM_ISSUE)
        rows = [_qr_medium(tx, ctx.venue_id, uid) for uid in medium_uids]
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=False)
    pdf.set_font("helvetica", size=11)
    per_page = SHEET_COLUMNS * SHEET_ROWS
    for index, row in enumerate(rows):
        if index % per_page == 0:
            pdf.add_page()
        slot = index % per_page
        x = 15 + (slot % SHEET_COLUMNS) * 62
        y = 15 + (slot // SHEET_COLUMNS) * 68
        svg = io.BytesIO()
        segno.make(qr_payload(row.qr_token), error="m").save(svg, kind="svg", scale=1, border=2, omitsize=True)
        svg.seek(0)
        pdf.image(svg, x=x, y=y, w=QR_SIDE_MM)
        pdf.set_xy(x, y + QR_SIDE_MM + 2)
        pdf.cell(QR_SIDE_MM, 6, row.uid, align="C")
    return bytes(pdf.output())
