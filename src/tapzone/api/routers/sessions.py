"""Staff sign-in on a till (argon2 passwords) and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from tapzone.api.auth import STAFF_HEADER
from tapzone.api.deps import Services, services
from tapzone.api.schemas import SignIn
from tapzone.errors import Unauthenticated
from tapzone.venues.credentials import sign_in, sign_out

router = APIRouter(prefix="/sessions", tags=["staff sessions"])


class SessionOut(BaseModel):
    session_token: str
    staff_id: int
    name: str
    role: str
    header: str = "X-Staff-Session"


@router.post("", status_code=201)
def open_session(body: SignIn, request: Request, svc: Annotated[Services, Depends(services)]) -> SessionOut:
    """Sign a staff member in on this till. Send the returned token as `X-Staff-Session` with the till's
    bearer token. Not idempotent by key on purpose: a replayed response would hand out a stored token."""
    device = svc.auth.device(request)
    session = sign_in(svc.uow, device, body.login, body.password)
    return SessionOut(session_token=session.token, staff_id=session.staff_id, name=session.name, role=session.role)


@router.delete("/current", status_code=204)
def close_session(request: Request, svc: Annotated[Services, Depends(services)]) -> Response:
    device = svc.auth.device(request)
    token = request.headers.get(STAFF_HEADER, "").strip()
    if not token:
        raise Unauthenticated("no staff session to close")
    sign_out(svc.uow, device, token)
    svc.auth.forget_session(device, token)
    return Response(status_code=204)
