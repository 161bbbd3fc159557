"""FastAPI dependencies: the shared services, the caller, and the context of a write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from tapzone.api.auth import Authenticator, Caller, idempotency_key
from tapzone.context import RequestContext
from tapzone.errors import UnsupportedMediaType
from tapzone.store.uow import UnitOfWork


@dataclass
class Services:
    uow: UnitOfWork
    auth: Authenticator


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def caller(request: Request, svc: Annotated[Services, Depends(services)]) -> Caller:
    """The device and staff member calling."""
    return svc.auth.caller(request)


def require_json(request: Request) -> None:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise UnsupportedMediaType("send the body as application/json")


def write_context(request: Request, who: Annotated[Caller, Depends(caller)]) -> RequestContext:
    """A write: authenticated, JSON, and carrying its Idempotency-Key (DESIGN §4)."""
    require_json(request)
    return who.context(idempotency_key(request))


def uow_of(svc: Annotated[Services, Depends(services)]) -> UnitOfWork:
    return svc.uow


Uow = Annotated[UnitOfWork, Depends(uow_of)]
Write = Annotated[RequestContext, Depends(write_context)]
Who = Annotated[Caller, Depends(caller)]
