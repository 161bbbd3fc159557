"""Media at the till: the lost-card transfer (seed 004 "Karte Umbuchen"), the manual return of a medium
(DESIGN §7: a "return medium" action always exists), and further wristbands read to pay on one receipt."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from tapzone.access.visits import return_medium
from tapzone.context import MediumEntry
from tapzone.errors import PermissionDenied, TapzoneError
from tapzone.media.transfer import transfer_lost_medium
from tapzone.pos.tabs import view_tab
from tapzone.venues.permissions import Permission
from tapzone.web.render import translate
from tapzone.web.session import screen, uow_of
from tapzone.web.till_common import entry_of, permissions_of, tab_fragment

router = APIRouter(include_in_schema=False)


@router.post("/till/{uid}/transfer")
def transfer_here(request: Request, uid: str, lost_uid: str = Form(...), key: str = Form(...)) -> Response:
    """The new medium is on the reader (`uid`), the lost one's number typed: the visit, its balances and
    open tab move here and the lost medium is blocked for good. Typing the number needs the manual-entry
    permission besides the transfer permission; the use case checks the transfer permission itself."""
    who = screen(request)
    if Permission.MEDIUM_MANUAL_ENTRY.value not in permissions_of(request, who):
        refused = PermissionDenied(translate("Typing a medium number needs the manual entry permission", who.language))
        return tab_fragment(request, who, uid, error=refused)
    try:
        moved = transfer_lost_medium(uow_of(request), who.context(key), lost_uid=lost_uid.strip(), new_uid=uid)
    except TapzoneError as error:
        return tab_fragment(request, who, uid, error=error)
    return tab_fragment(request, who, moved.to_medium_uid, done=moved)


@router.post("/till/{uid}/return")
def return_here(request: Request, uid: str, key: str = Form(...), entry: str = Form("reader")) -> Response:
    """The visitor hands the medium back: the visit closes and a deposit is paid back in cash. Refused
    while goods are unpaid or prepaid value is left (seed 001)."""
    who, how = screen(request), entry_of(entry)
    try:
        returned = return_medium(uow_of(request), who.context(key), medium_uid=uid, entry=how)
    except TapzoneError as error:
        return tab_fragment(request, who, uid, entry=how, error=error)
    return tab_fragment(request, who, uid, entry=how, done=returned)


@router.post("/till/{uid}/together")
def pay_together(
    request: Request,
    uid: str,
    other: str = Form(...),
    others: Annotated[list[str] | None, Form()] = None,
    entry: str = Form("reader"),
) -> Response:
    """Read another wristband to pay its tab on the same receipt (seed 001: two members' debts at once).
    It must be read by the reader, like the medium the tab belongs to."""
    who, how = screen(request), entry_of(entry)
    wanted = [each.strip() for each in others or [] if each.strip()]
    try:
        added = view_tab(uow_of(request), who.context(), medium_uid=other.strip(), entry=MediumEntry.READER)
    except TapzoneError as error:
        return tab_fragment(request, who, uid, entry=how, others=wanted, error=error)
    if added.medium_uid not in wanted and added.medium_uid != uid.strip().upper():
        wanted.append(added.medium_uid)
    return tab_fragment(request, who, uid, entry=how, others=wanted)
