"""Venue settings: what changes behaviour at tills and gates, and what the venue prints and speaks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tapzone.i18n import LANGUAGES
from tapzone.venues.settings import read_venue, update_venue_details, update_venue_settings
from tapzone.web.office.common import Office, OfficeForm, Outcome, attempt, guarded, office_page, read_form
from tapzone.web.session import uow_of

router = APIRouter(include_in_schema=False)
Posted = Annotated[dict[str, list[str]], Depends(read_form)]


def _show(request: Request, office: Office, outcome: Outcome | None = None) -> Response:
    venue = read_venue(uow_of(request), office.who.context())
    return office_page(request, office, "office/venue.html", title="Settings", outcome=outcome, venue=venue)


@router.get("/office/venue")
def venue_page(request: Request) -> Response:
    return guarded(request, lambda office: _show(request, office))


@router.post("/office/venue/settings")
def save_settings(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        done, outcome = attempt(
            form,
            "settings",
            lambda: update_venue_settings(
                uow_of(request),
                form.context(office),
                auto_unbind=form.flag("auto_unbind"),
                pay_with_medium=form.flag("pay_with_medium"),
                member_debt_on_medium=form.flag("member_debt_on_medium"),
            ),
        )
        if done is not None:
            outcome.notice = "Settings saved"
        return _show(request, office, outcome)

    return guarded(request, show)


@router.post("/office/venue/details")
def save_details(request: Request, values: Posted) -> Response:
    def show(office: Office) -> Response:
        form = OfficeForm(values)
        language = form.one_of("language", LANGUAGES)
        deposit = form.amount("card_deposit", office.currency, required=False, allow_zero=True)
        digits = form.number("card_number_digits", low=1, high=18, required=False)
        address = form.text("address", required=False, max_length=500)
        tax_id = form.text("tax_id", required=False, max_length=32)
        done, outcome = attempt(
            form,
            "details",
            lambda: update_venue_details(
                uow_of(request),
                form.context(office),
                language=language or "",
                card_deposit_minor=deposit or 0,
                card_number_digits=digits,
                address=address or "",
                tax_id=tax_id,
            ),
        )
        if done is not None:
            outcome.notice = "Settings saved"
        return _show(request, office, outcome)

    return guarded(request, show)
