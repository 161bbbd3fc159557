"""RFC 9457 problem+json responses with a stable `type` per failure and a title from the Babel catalogs."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tapzone.api.problem_docs import install_problem_docs
from tapzone.errors import (
    DatabaseBusy,
    InvalidAmount,
    InvalidRequest,
    MalformedJson,
    NotFound,
    PaymentPending,
    RateLimited,
    TapzoneError,
    all_error_types,
)
from tapzone.i18n import choose_language, gettext
from tapzone.store.retry import is_busy

PROBLEM_MEDIA_TYPE = "application/problem+json"
# JSON is UTF-8 (RFC 8259), but clients only assume that for application/json; for problem+json without a
# charset, e.g. Python's requests guesses from the bytes and can read a non-ASCII detail as Shift-JIS.
PROBLEM_CONTENT_TYPE = PROBLEM_MEDIA_TYPE + "; charset=utf-8"
PROBLEM_BASE = "/problems/"
_AMOUNT_FIELDS = ("amount_minor",)
NUMERIC_VALUE_OUT_OF_RANGE = "22003"  # PostgreSQL's SQLSTATE


def problem_type(error_type: str) -> str:
    return PROBLEM_BASE + error_type


def request_language(request: Request) -> str:
    venue_language = getattr(request.state, "venue_language", "en")
    return choose_language(request.headers.get("accept-language"), venue_language)


def problem_response(request: Request, error: TapzoneError, extra: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(error.type),
        "title": gettext(error.title, request_language(request)),
        "status": error.status,
        "detail": error.detail,
        "instance": request.url.path,
    }
    if extra:
        body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else {}
    if isinstance(error, RateLimited | DatabaseBusy):  # RFC 9110: tells a well-behaved client when to try again
        headers["Retry-After"] = str(error.retry_after_s)
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]
    if any(error["type"] == "json_invalid" for error in errors):
        return problem_response(request, MalformedJson("the request body is not valid JSON"), {"errors": errors})
    # Amount fields get their own problem type so a till can tell a bad amount from other bad input.
    if any(error["loc"] and error["loc"][-1] in _AMOUNT_FIELDS for error in errors):
        error: TapzoneError = InvalidAmount("amounts are positive JSON integers of minor units")
    else:
        error = InvalidRequest("the request does not match the expected shape")
    return problem_response(request, error, {"errors": errors})


def install_problem_handlers(app: FastAPI) -> None:
    install_problem_docs(app)

    @app.exception_handler(PaymentPending)
    async def _payment_pending(request: Request, exc: PaymentPending) -> JSONResponse:
        # Not an error: the write waits for a cashless payment (seed 003). 202 with the payment to resolve.
        payment = exc.payment
        body = payment.model_dump(mode="json") if isinstance(payment, BaseModel) else {"detail": exc.detail}
        return JSONResponse(body, status_code=202)

    @app.exception_handler(TapzoneError)
    async def _tapzone_error(request: Request, exc: TapzoneError) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(sa.exc.DBAPIError)
    async def _database_error(request: Request, exc: sa.exc.DBAPIError) -> JSONResponse:
        # A collision that outlived the retries (or a write outside `run_idempotent`) is the client's cue to
        # send the same request again, not a server fault; anything else stays a 500.
        if not is_busy(exc):
            raise exc
        return problem_response(request, DatabaseBusy("the request collided with others; nothing was booked"))

    # Identifiers and counts are JSON integers without a bound in the schema; one beyond 64 bits names nothing,
    # but reaches the database driver first, which refuses it (SQLite: OverflowError when binding, PostgreSQL:
    # numeric_value_out_of_range). The transaction has rolled back by then; answer as the bad input it is.
    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return problem_response(request, InvalidRequest("a number in the request is out of range"))

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        if getattr(exc.orig, "sqlstate", None) != NUMERIC_VALUE_OUT_OF_RANGE:
            raise exc  # any other data error is a bug of ours: a 500 that says so
        return problem_response(request, InvalidRequest("a number in the request is out of range"))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_problem(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return problem_response(request, NotFound("no such resource"))
        generic = TapzoneError(str(exc.detail))
        generic.status = exc.status_code
        return problem_response(request, generic)


def problem_catalogue() -> list[dict[str, Any]]:
    """Every problem type with its status and English title, for the `/problems` pages and docs."""
    return [
        {"type": problem_type(cls.type), "status": cls.status, "title": cls.title, "about": (cls.__doc__ or "").strip()}
        for cls in all_error_types()
    ]
