"""Staff and roles: who may sign in, with which role and in which language their screens speak."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tapzone.i18n import LANGUAGES
from tapzone.venues import configure
from tapzone.venues.credentials import MIN_PASSWORD_LENGTH
from tapzone.venues.listing import list_roles, list_staff, read_staff_member
from tapzone.web.office.common import (
    Office,
    OfficeForm,
    Outcome,
    attempt,
    guarded,
    office_page,
    pager_links,
    paging,
    read_form,
)
from tapzone.web.session import uow_of

router = APIRouter(include_in_schema=False)
Posted = Annotated[dict[str, list[str]], Depends(read_form)]
VENUE_LANGUAGE = "venue"  # the language select's choice for "follow the venue" (NULL in the database)


def _staff(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    limit, offset = paging(request)
    query = request.query_params
    uow, ctx = uow_of(request), office.who.context()
    page = list_staff(
        uow, ctx, role=query.get("role") or None, search=query.get("search") or None, limit=limit, offset=offset
    )
    roles = list_roles(uow, ctx)
    return office_page(
        request,
        office,
        "office/staff.html",
        title="Staff and roles",
        outcome=outcome,
        page=page,
        links=pager_links(request, page, "/office/staff"),
        roles=roles,
        role_options=[(role.name, role.name) for role in roles],
        role=query.get("role", ""),
        search=query.get("search", ""),
        min_password=MIN_PASSWORD_LENGTH,
    )


@router.get("/office/staff")
def staff_page(request: Request) -> Response:
    return guarded(request, lambda office: _staff(request, office))


def _language(form: OfficeForm) -> str | None:
    chosen = form.one_of("language", (VENUE_LANGUAGE, *LANGUAGES))
    return None if chosen in (None, VENUE_LANGUAGE) else chosen


@router.post("/office/staff")
def add_staff(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        name = form.text("name")
        login = form.text("login", max_length=64)
        role = form.text("role", max_length=64)
        password = form.text("password", max_length=200)
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            form.problem("password", "At least {count} characters", count=MIN_PASSWORD_LENGTH)
        language = _language(form)
        done, outcome = attempt(
            form,
            "staff",
            lambda: configure.create_staff_member(
                uow_of(request),
                form.context(office),
                name=name or "",
                login=login or "",
                role=role or "",
                password=password or "",
                language=language,
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "{name} can sign in now", {"name": name}
        return _staff(request, office, outcome)

    return guarded(request, show)


def _one(request: Request, office: Office, staff_id: int, outcome: Outcome | None = None) -> Response:
    member = read_staff_member(uow_of(request), office.who.context(), staff_id=staff_id)
    roles = list_roles(uow_of(request), office.who.context())
    return office_page(
        request,
        office,
        "office/staff_member.html",
        title="Staff and roles",
        outcome=outcome,
        member=member,
        role_options=[(role.name, role.name) for role in roles],
        yourself=member.id == office.who.operator_id,
        min_password=MIN_PASSWORD_LENGTH,
    )


@router.get("/office/staff/{staff_id}")
def member_page(request: Request, staff_id: int) -> Response:
    return guarded(request, lambda office: _one(request, office, staff_id))


@router.post("/office/staff/{staff_id}/language")
def change_language(request: Request, staff_id: int, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        language = _language(form)
        done, outcome = attempt(
            form,
            "language",
            lambda: configure.set_staff_language(
                uow_of(request), form.context(office), staff_id=staff_id, language=language
            ),
        )
        if done is not None:
            outcome.notice = "Language saved"
        return _one(request, office, staff_id, outcome)

    return guarded(request, show)


@router.post("/office/staff/{staff_id}/role")
def change_role(request: Request, staff_id: int, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        role = form.text("role", max_length=64)
        done, outcome = attempt(
            form,
            "role",
            lambda: configure.set_staff_role(uow_of(request), form.context(office), staff_id=staff_id, role=role or ""),
        )
        if done is not None:
            outcome.notice = "Role saved"
        return _one(request, office, staff_id, outcome)

    return guarded(request, show)


@router.post("/office/staff/{staff_id}/password")
def change_password(request: Request, staff_id: int, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        password = form.text("password", max_length=200)
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            form.problem("password", "At least {count} characters", count=MIN_PASSWORD_LENGTH)
        done, outcome = attempt(
            form,
            "password",
            lambda: configure.set_staff_password(
                uow_of(request), form.context(office), staff_id=staff_id, password=password or ""
            ),
        )
        if done is not None:
            outcome.notice = "Password saved"
        return _one(request, office, staff_id, outcome)

    return guarded(request, show)


@router.post("/office/staff/{staff_id}/active")
def change_active(request: Request, staff_id: int, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        active = form.flag("active")
        done, outcome = attempt(
            form,
            "active",
            lambda: configure.set_staff_active(uow_of(request), form.context(office), staff_id=staff_id, active=active),
        )
        if done is not None:
            outcome.notice = "Sign-in allowed" if active else "Sign-in blocked"
        return _one(request, office, staff_id, outcome)

    return guarded(request, show)
