"""What every back-office screen shares: who is at it, the page shell, forms, refusals and paging links.

A screen renders its body template inside `office/page.html`; an HTMX form post gets the body alone, so a
saved form swaps in place. Permissions are the use cases' business: a refused read or write shows the
problem's title in the reader's language with its detail, never a stack trace or a JSON problem.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

import sqlalchemy as sa
from babel import Locale
from babel.dates import format_date
from fastapi import Request
from fastapi.responses import Response
from pydantic import ValidationError

from tapzone.context import RequestContext
from tapzone.errors import TapzoneError
from tapzone.i18n import LANGUAGES
from tapzone.store.paging import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, Page
from tapzone.store.tables import venues
from tapzone.venues.listing import operator_permissions
from tapzone.venues.permissions import Permission
from tapzone.web.office.forms import (
    FormInput,
    Problem,
    format_amount,
    format_basis_points,
    format_minute_of_day,
)
from tapzone.web.render import render
from tapzone.web.session import Screen, screen, uow_of

T = TypeVar("T")

# Money figures and freshly issued tokens must not stay in shared caches or the browser's history.
NO_STORE = {"Cache-Control": "no-store"}
# Each language by its own name (Deutsch, Svenska, Русский): a person finds their language whatever the
# screen currently speaks.
LANGUAGE_OPTIONS = [(code, (Locale.parse(code).get_display_name(code) or code).capitalize()) for code in LANGUAGES]


@dataclass(frozen=True, slots=True)
class Office:
    who: Screen
    permissions: frozenset[str]
    venue_name: str
    currency: str
    timezone: str

    @property
    def configures(self) -> bool:
        return Permission.VENUE_CONFIGURE.value in self.permissions

    @property
    def views_reports(self) -> bool:
        return Permission.REPORT_VIEW.value in self.permissions


def office_of(request: Request) -> Office:
    who = screen(request)
    uow = uow_of(request)
    permissions = operator_permissions(uow, who.context())
    with uow.engine.connect() as conn:
        venue = conn.execute(
            sa.select(venues.c.name, venues.c.currency, venues.c.timezone).where(venues.c.id == who.device.venue_id)
        ).one()
    return Office(who, permissions, venue.name, venue.currency, venue.timezone)


@dataclass
class Outcome:
    """What a form post did: a notice on success, or a refusal and the problems per field."""

    notice: str | None = None
    notice_values: dict[str, object] = field(default_factory=dict)
    refusal: TapzoneError | None = None
    form: FormInput | None = None
    form_name: str | None = None  # which of the page's forms the problems belong to

    @property
    def problems(self) -> dict[str, Problem]:
        return self.form.problems if self.form is not None else {}

    def values(self, form_name: str) -> dict[str, list[str]]:
        """What was typed into `form_name`, to show again after a refusal (never after success)."""
        if self.form is None or self.form_name != form_name or (self.notice and not self.refusal):
            return {}
        return dict(self.form.values)


def attempt(form: FormInput, form_name: str, action: Callable[[], T]) -> tuple[T | None, Outcome]:
    """Run a use case for a form that parsed; a refusal or a model's validation error becomes an outcome
    shown next to the form instead of an error page."""
    outcome = Outcome(form=form, form_name=form_name)
    if not form.ok:
        return None, outcome
    try:
        return action(), outcome
    except ValidationError as error:
        form.absorb(error)
    except TapzoneError as error:
        outcome.refusal = error
    return None, outcome


def href_for(request: Request) -> Callable[..., str]:
    """Links that keep the language chosen with `?lang=` (screenshots, a colleague's screen in English)."""
    chosen = request.query_params.get("lang")

    def href(path: str, **params: object) -> str:
        query = {name: value for name, value in params.items() if value is not None and value != ""}
        if chosen in LANGUAGES:
            query["lang"] = chosen
        return f"{path}?{urlencode(query)}" if query else path

    return href


def paging(request: Request, default_limit: int = PAGE_SIZE_DEFAULT) -> tuple[int, int]:
    """limit and offset from the query; nonsense falls back to the first page rather than an error."""

    def number(name: str, default: int, low: int, high: int) -> int:
        text = request.query_params.get(name, "")
        return min(max(int(text), low), high) if text.isdigit() else default

    return number("limit", default_limit, 1, PAGE_SIZE_MAX), number("offset", 0, 0, 10**9)


def pager_links(request: Request, page: Page[Any], path: str) -> dict[str, str | None]:
    """previous/next links of a list, keeping its filters."""
    href = href_for(request)
    kept = {name: value for name, value in request.query_params.items() if name not in ("offset", "lang")}

    def at(offset: int | None) -> str | None:
        return None if offset is None else href(path, **kept, offset=offset)

    return {"previous": at(page.previous_offset), "next": at(page.next_offset)}


def office_page(
    request: Request,
    office: Office,
    body: str,
    *,
    title: str,
    outcome: Outcome | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The body template inside the shell, or the body alone for an HTMX form post (it swaps in place)."""
    outcome = outcome or Outcome()
    template = body if request.headers.get("hx-request") else "office/page.html"
    response = render(
        request,
        template,
        language=office.who.language,
        who=office.who,
        office=office,
        body=body,
        title=title,
        currency=office.currency,
        timezone=office.timezone,
        outcome=outcome,
        problems=outcome.problems,
        href=href_for(request),
        new_key=lambda: uuid.uuid4().hex,
        format_amount=lambda minor: format_amount(minor, office.currency, office.who.language),
        format_percent=lambda value_bp: format_basis_points(value_bp, office.who.language),
        format_minute=format_minute_of_day,
        format_day=lambda day: format_date(day, format="medium", locale=office.who.language),
        language_options=LANGUAGE_OPTIONS,
        status_code=status_code,
        **context,
    )
    response.headers.update(NO_STORE)
    return response


def refused(request: Request, office: Office, error: TapzoneError) -> Response:
    return office_page(
        request,
        office,
        "office/refused.html",
        title="Back office",
        outcome=Outcome(refusal=error),
        status_code=error.status,
    )


def guarded(request: Request, show: Callable[[Office], Response]) -> Response:
    """Render a screen; a read the use cases refuse (no permission, unknown id) shows the refusal."""
    office = office_of(request)
    try:
        return show(office)
    except TapzoneError as error:
        return refused(request, office, error)


class OfficeForm(FormInput):
    """A posted back-office form; its hidden `key` is the write's idempotency key (a fresh one per render,
    so a double click books once and the next form books again)."""

    def context(self, office: Office) -> RequestContext:
        return office.who.context(self.raw("key") or None)


async def read_form(request: Request) -> dict[str, list[str]]:
    """The posted fields, every value of each (checkbox groups send several)."""
    submitted = await request.form()
    found: dict[str, list[str]] = {}
    for name, value in submitted.multi_items():
        if isinstance(value, str):
            found.setdefault(name, []).append(value)
    return found
