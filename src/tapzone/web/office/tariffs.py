"""Tariffs with their time tables, top-up rules with their price lists, and skin types (seed 002)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tapzone.plans.listing import list_resources, list_skin_types, list_tariffs, list_topup_rules
from tapzone.plans.setup import create_tariff, create_topup_rule, set_skin_type
from tapzone.plans.specs import TariffSpec, TopupRuleSpec
from tapzone.plans.tariffs import TariffKind
from tapzone.plans.topup_rules import MAX_BONUS_PERCENT_BP, RuleKind
from tapzone.web.office.common import Office, OfficeForm, Outcome, attempt, guarded, office_page, read_form
from tapzone.web.session import uow_of

router = APIRouter(include_in_schema=False)
Posted = Annotated[dict[str, list[str]], Depends(read_form)]
RATE_ROWS = 3  # time-table rows offered at once; a tariff with more windows is rare (happy hour, evening)
STEP_ROWS = 5
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # bit 0 = Monday
SKIN_TYPES = range(1, 7)


def _tariffs(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    uow, ctx = uow_of(request), office.who.context()
    return office_page(
        request,
        office,
        "office/tariffs.html",
        title="Tariffs",
        outcome=outcome,
        tariffs=list_tariffs(uow, ctx),
        resources=list_resources(uow, ctx),
        tariff_kinds=[kind.value for kind in TariffKind],
        rate_rows=range(RATE_ROWS),
        weekdays=list(enumerate(WEEKDAYS)),
    )


@router.get("/office/tariffs")
def tariffs_page(request: Request) -> Response:
    return guarded(request, lambda office: _tariffs(request, office))


def _rates(form: OfficeForm, currency: str) -> list[dict[str, Any]]:
    """The time-table rows that were filled in; a row left empty is no rate."""
    rates = []
    for row in range(RATE_ROWS):
        prefix = f"rates.{row}."
        if not any(form.raw(prefix + name) for name in ("start_minute", "end_minute", "price")):
            continue
        days = [int(day) for day in form.all(prefix + "weekdays") if day.isdigit() and int(day) < len(WEEKDAYS)]
        if not days:
            form.problem(prefix + "weekdays", "Choose at least one day")
        rates.append(
            {
                "weekdays": sum(1 << day for day in set(days)),
                "start_minute": form.minute_of_day(prefix + "start_minute"),
                "end_minute": form.minute_of_day(prefix + "end_minute", end=True),
                "price_minor": form.amount(prefix + "price", currency),
            }
        )
    return rates


@router.post("/office/tariffs")
def add_tariff(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        spec = {
            "name": form.text("name"),
            "kind": form.choice("kind", TariffKind),
            "price_minor": form.amount("price", office.currency, required=False),
            "max_minutes": form.number("max_minutes", low=1, high=1440, required=False),
            "resource_ids": [int(found) for found in form.all("resource_ids") if found.isdigit()],
            "rates": _rates(form, office.currency),
        }
        done, outcome = attempt(
            form,
            "tariff",
            lambda: create_tariff(uow_of(request), form.context(office), TariffSpec.model_validate(spec)),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Tariff {name} created", {"name": spec["name"]}
        return _tariffs(request, office, outcome)

    return guarded(request, show)


def _rules(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    return office_page(
        request,
        office,
        "office/topup_rules.html",
        title="Top-up rules",
        outcome=outcome,
        rules=list_topup_rules(uow_of(request), office.who.context()),
        rule_kinds=[kind.value for kind in RuleKind],
        step_rows=range(STEP_ROWS),
    )


@router.get("/office/topup-rules")
def rules_page(request: Request) -> Response:
    return guarded(request, lambda office: _rules(request, office))


def _steps(form: OfficeForm, currency: str) -> list[dict[str, Any]]:
    """The price-list rows that were filled in. Bonus is typed as an amount: it is value in minor units
    that pays after the money (seed 002 "Bonus"), like the bonus a free rule adds as a percentage."""
    steps = []
    for row in range(STEP_ROWS):
        prefix = f"steps.{row}."
        names = ("price", "money", "bonus", "minutes", "visits", "days", "months", "valid_until")
        if not any(form.raw(prefix + name) for name in names):
            continue
        steps.append(
            {
                "price_minor": form.amount(prefix + "price", currency),
                "money_minor": form.amount(prefix + "money", currency, required=False, allow_zero=True) or 0,
                "bonus": form.amount(prefix + "bonus", currency, required=False, allow_zero=True) or 0,
                "minutes": form.number(prefix + "minutes", low=0, high=10**9, required=False) or 0,
                "visits": form.number(prefix + "visits", low=0, high=10**6, required=False) or 0,
                "days": form.number(prefix + "days", low=0, high=3660, required=False) or 0,
                "months": form.number(prefix + "months", low=0, high=120, required=False) or 0,
                "valid_until": form.day(prefix + "valid_until"),
            }
        )
    return steps


@router.post("/office/topup-rules")
def add_rule(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        kind = form.choice("kind", RuleKind)
        spec = {
            "name": form.text("name"),
            "kind": kind,
            "bonus_percent_bp": form.basis_points("bonus_percent", required=False, high_bp=MAX_BONUS_PERCENT_BP) or 0,
            "steps": _steps(form, office.currency),
        }
        if kind is RuleKind.STEPPED and not spec["steps"]:
            form.problem("steps.0.price", "A stepped rule needs at least one price")
        done, outcome = attempt(
            form,
            "rule",
            lambda: create_topup_rule(uow_of(request), form.context(office), TopupRuleSpec.model_validate(spec)),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Top-up rule {name} created", {"name": spec["name"]}
        return _rules(request, office, outcome)

    return guarded(request, show)


def _skin_types(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    return office_page(
        request,
        office,
        "office/skin_types.html",
        title="Skin types",
        outcome=outcome,
        skin_types=list_skin_types(uow_of(request), office.who.context()),
        skin_type_options=[(number, str(number)) for number in SKIN_TYPES],
    )


@router.get("/office/skin-types")
def skin_types_page(request: Request) -> Response:
    return guarded(request, lambda office: _skin_types(request, office))


@router.post("/office/skin-types")
def save_skin_type(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        number = form.number("skin_type", low=1, high=6)
        name = form.text("name", max_length=64)
        minutes = form.number("max_minutes", low=1, high=120)
        done, outcome = attempt(
            form,
            "skin",
            lambda: set_skin_type(
                uow_of(request), form.context(office), skin_type=number or 0, name=name or "", max_minutes=minutes or 0
            ),
        )
        if done is not None:
            outcome.notice, outcome.notice_values = "Skin type {number} saved", {"number": number}
        return _skin_types(request, office, outcome)

    return guarded(request, show)
