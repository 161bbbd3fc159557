"""Account types (seed 002 "Kartenkonto"): every field of the manual's dialog, created, changed and copied
under another number. The form is read into an `AccountTypeSpec`, the same model the API takes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tapzone.plans.listing import list_tariffs, list_topup_rules, page_account_types, read_account_type
from tapzone.plans.setup import copy_account_type, create_account_type, update_account_type
from tapzone.plans.specs import AccountTypeSpec, AccountTypeView
from tapzone.store.paging import PAGE_SIZE_MAX
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
FLAGS = (
    "usage_free",
    "deposit_is_sale_price",
    "sellable",
    "auto_renew",
    "delete_on_expiry",
    "pay_without_topup",
    "staff_only",
    "fingerprint_required",
    "skin_types_enforced",
    "contract_required",
)
SELLABLE = {"yes": True, "no": False}


def _read_spec(form: OfficeForm, currency: str, *, number: int | None) -> dict[str, Any]:
    """The form's fields as `AccountTypeSpec` values; amounts are typed as decimals, counts as numbers."""
    values: dict[str, Any] = {
        "number": number,
        "name": form.text("name"),
        "tariff_id": form.identifier("tariff_id", required=False),
        "topup_rule_id": form.identifier("topup_rule_id", required=False),
        "discount_type_id": form.identifier("discount_type_id", required=False),
        "default_price_minor": form.amount("default_price", currency, required=False),
        "vat_rate_bp": form.basis_points("vat_rate", required=False) or 0,
        # Empty deposit: the venue's card deposit applies; 0 is a card without deposit.
        "deposit_minor": form.amount("deposit", currency, required=False, allow_zero=True),
        "lock_days": form.number("lock_days", low=0, high=365, required=False),
        "lock_hours": form.number("lock_hours", low=0, high=8760, required=False),
        "half_time_after_days": form.number("half_time_after_days", low=1, high=3650, required=False),
        "fee_minor": form.amount("fee", currency, required=False, allow_zero=True) or 0,
        "number_from": form.number("number_from", low=0, high=10**18, required=False),
        "number_to": form.number("number_to", low=0, high=10**18, required=False),
        "picture": form.text("picture", required=False),
    }
    values.update({name: form.flag(name) for name in FLAGS})
    return values


def _options(request: Request, office: Office) -> dict[str, Any]:
    uow, ctx = uow_of(request), office.who.context()
    types = page_account_types(uow, ctx, search=None, sellable=None, limit=PAGE_SIZE_MAX, offset=0).items
    return {
        "tariff_options": [(t.id, t.name) for t in list_tariffs(uow, ctx)],
        "rule_options": [(r.id, r.name) for r in list_topup_rules(uow, ctx)],
        "type_options": [(t.id, f"{t.number} {t.name}") for t in types],
    }


def _types(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    limit, offset = paging(request)
    query = request.query_params
    page = page_account_types(
        uow_of(request),
        office.who.context(),
        search=query.get("search") or None,
        sellable=SELLABLE.get(query.get("sellable", "")),
        limit=limit,
        offset=offset,
    )
    return office_page(
        request,
        office,
        "office/account_types.html",
        title="Account types",
        outcome=outcome,
        page=page,
        links=pager_links(request, page, "/office/account-types"),
        search=query.get("search", ""),
        sellable=query.get("sellable", ""),
        kind=None,
        **_options(request, office),
    )


@router.get("/office/account-types")
def types_page(request: Request) -> Response:
    return guarded(request, lambda office: _types(request, office))


@router.post("/office/account-types")
def add_type(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        spec = _read_spec(form, office.currency, number=form.number("number", low=1, high=999_999))
        done, outcome = attempt(
            form,
            "type",
            lambda: create_account_type(uow_of(request), form.context(office), AccountTypeSpec.model_validate(spec)),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Account type {name} created", {"name": done.name}
        return _types(request, office, outcome)

    return guarded(request, show)


def _type(request: Request, office: Office, type_id: int, outcome: Outcome | None = None) -> Response:
    kind = read_account_type(uow_of(request), office.who.context(), type_id=type_id)
    return office_page(
        request,
        office,
        "office/account_type.html",
        title="Account types",
        outcome=outcome,
        kind=kind,
        **_options(request, office),
    )


@router.get("/office/account-types/{type_id}")
def type_page(request: Request, type_id: int) -> Response:
    return guarded(request, lambda office: _type(request, office, type_id))


def _changes(current: AccountTypeView, wanted: dict[str, Any]) -> dict[str, object]:
    """Only what differs, so the audit log says what was changed rather than repeating every field."""
    return {name: value for name, value in wanted.items() if name != "number" and getattr(current, name) != value}


@router.post("/office/account-types/{type_id}")
def change_type(request: Request, type_id: int, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        current = read_account_type(uow_of(request), office.who.context(), type_id=type_id)
        wanted = _read_spec(form, office.currency, number=current.number)
        changes = _changes(current, wanted)
        if form.ok and not changes:
            return _type(request, office, type_id, Outcome(notice="Nothing was changed"))
        done, outcome = attempt(
            form,
            "type",
            lambda: update_account_type(uow_of(request), form.context(office), type_id=type_id, changes=changes),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Account type {name} saved", {"name": done.name}
        return _type(request, office, type_id, outcome)

    return guarded(request, show)


@router.post("/office/account-types/{type_id}/copies")
def copy_type(request: Request, type_id: int, values: Posted) -> Response:
    """seed 002 "Schalter mit Id": the same card under the number the chain uses for it."""

    def show(office: Office) -> Response:
        form = OfficeForm(values)
        number = form.number("copy_number", low=1, high=999_999)
        done, outcome = attempt(
            form,
            "copy",
            lambda: copy_account_type(uow_of(request), form.context(office), type_id=type_id, number=number or 0),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Copied as number {number}", {"number": done.number}
        return _type(request, office, type_id, outcome)

    return guarded(request, show)
