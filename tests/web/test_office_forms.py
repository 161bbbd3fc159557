"""Reading back-office forms: typed decimals become exact integers of minor units, never via float."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from tapzone.money import MAX_AMOUNT_MINOR
from tapzone.plans.specs import TopupRuleSpec
from tapzone.plans.tariffs import TariffKind
from tapzone.web.office.forms import (
    CHECK_THIS_FIELD,
    REQUIRED,
    FormInput,
    FormValueError,
    default_field_of,
    format_amount,
    format_basis_points,
    parse_amount_minor,
    parse_basis_points,
    parse_minute_of_day,
    parse_whole_number,
)


@pytest.mark.parametrize(
    ("typed", "currency", "minor"),
    [
        ("12.50", "EUR", 1250),
        ("12,50", "EUR", 1250),  # as German, Swedish and Russian write it
        ("12,5", "EUR", 1250),
        ("0.29", "EUR", 29),  # float(0.29) * 100 is 28.999999999999996
        ("0.07", "EUR", 7),
        ("1.10", "EUR", 110),  # 1.1 * 100 is 110.00000000000001 as a float
        ("4.35", "EUR", 435),  # round(4.35 * 100) works, int(4.35 * 100) gives 434
        (" 3 ", "EUR", 300),
        ("1 234,50", "EUR", 123450),
        ("1\u00a0234,50", "SEK", 123450),
        ("500", "JPY", 500),
        ("99999999.99", "EUR", 9_999_999_999),
        ("1000000000", "EUR", MAX_AMOUNT_MINOR),
    ],
)
def test_amounts_become_exact_minor_units(typed: str, currency: str, minor: int) -> None:
    assert parse_amount_minor(typed, currency) == minor


def test_every_cent_from_zero_to_a_hundred_euros_parses_exactly() -> None:
    for minor in range(1, 10_001):
        assert parse_amount_minor(f"{minor // 100}.{minor % 100:02d}", "EUR") == minor


@pytest.mark.parametrize(
    ("typed", "currency", "problem"),
    [
        ("12.505", "EUR", "At most {digits} decimal places"),  # refused, never rounded
        ("5.5", "JPY", "Enter a whole amount"),
        ("-1", "EUR", "Enter an amount like 12.50"),
        ("+1", "EUR", "Enter an amount like 12.50"),
        ("1e3", "EUR", "Enter an amount like 12.50"),
        ("1.234,50", "EUR", "Enter an amount like 12.50"),  # grouping dots are ambiguous
        ("12.", "EUR", "Enter an amount like 12.50"),
        ("abc", "EUR", "Enter an amount like 12.50"),
        ("NaN", "EUR", "Enter an amount like 12.50"),
        ("Infinity", "EUR", "Enter an amount like 12.50"),
        ("١٢", "EUR", "Enter an amount like 12.50"),  # digits of another script are not taken as numbers
        ("0", "EUR", "Enter an amount greater than zero"),
        ("0,00", "EUR", "Enter an amount greater than zero"),
        ("1000000000.01", "EUR", "This amount is too large"),
    ],
)
def test_amounts_that_are_refused(typed: str, currency: str, problem: str) -> None:
    with pytest.raises(FormValueError) as refused:
        parse_amount_minor(typed, currency)
    assert refused.value.problem.message == problem


def test_zero_only_where_allowed() -> None:
    assert parse_amount_minor("0", "EUR", allow_zero=True) == 0


@pytest.mark.parametrize(("typed", "bp"), [("19", 1900), ("7", 700), ("7,5", 750), ("10.70", 1070), ("0", 0)])
def test_percentages_become_basis_points(typed: str, bp: int) -> None:
    assert parse_basis_points(typed) == bp


@pytest.mark.parametrize("typed", ["101", "19.005", "-7", "19%"])
def test_percentages_that_are_refused(typed: str) -> None:
    with pytest.raises(FormValueError):
        parse_basis_points(typed)


def test_times_of_day() -> None:
    assert parse_minute_of_day("14:30") == 870
    assert parse_minute_of_day("0:00") == 0
    assert parse_minute_of_day("24:00", end=True) == 1440
    for typed, end in (("24:00", False), ("24:01", True), ("12:60", False), ("1430", False)):
        with pytest.raises(FormValueError):
            parse_minute_of_day(typed, end=end)


def test_whole_numbers_within_bounds() -> None:
    assert parse_whole_number("42", low=1, high=100) == 42
    with pytest.raises(FormValueError) as refused:
        parse_whole_number("101", low=1, high=100)
    assert refused.value.problem.values == {"low": 1, "high": 100}
    with pytest.raises(FormValueError):
        parse_whole_number("4.0", low=1, high=100)


@pytest.mark.parametrize(
    ("minor", "language", "shown"),
    [(1250, "en", "12.50"), (1250, "de", "12,50"), (7, "sv", "0,07"), (500, "ru", "5,00")],
)
def test_amounts_shown_in_a_form_parse_back_to_themselves(minor: int, language: str, shown: str) -> None:
    assert format_amount(minor, "EUR", language) == shown
    assert parse_amount_minor(shown, "EUR") == minor


def test_percentages_shown_in_a_form() -> None:
    assert [format_basis_points(bp, "de") for bp in (1900, 750, 1070, 0)] == ["19", "7,5", "10,7", "0"]
    assert parse_basis_points(format_basis_points(550, "ru")) == 550


def test_a_form_collects_a_problem_per_field() -> None:
    form = FormInput(
        {"price": ["3,205"], "name": [""], "vat": ["19"], "kind": ["per-use"], "day": ["31.12.2026"], "on": ["1"]}
    )
    assert form.amount("price", "EUR") is None
    assert form.text("name") is None
    assert form.basis_points("vat") == 1900
    assert form.choice("kind", TariffKind) is TariffKind.PER_USE
    assert form.day("day") is None
    assert form.flag("on") is True
    assert form.flag("missing") is False
    assert form.amount("optional", "EUR", required=False) is None
    assert set(form.problems) == {"price", "name", "day"}
    assert form.problems["name"].message == REQUIRED
    assert not form.ok


def test_a_date_field() -> None:
    assert FormInput({"day": ["2026-12-31"]}).day("day") == date(2026, 12, 31)


def test_model_errors_mark_the_fields_they_name() -> None:
    form = FormInput({})
    with pytest.raises(ValidationError) as invalid:
        TopupRuleSpec.model_validate({"name": "", "kind": "stepped", "steps": [{"price_minor": 0}]})
    form.absorb(invalid.value)
    assert set(form.problems) == {"name", "steps.0.price"}
    assert {problem.message for problem in form.problems.values()} == {CHECK_THIS_FIELD}


def test_amount_fields_are_named_without_the_unit() -> None:
    assert default_field_of(("default_price_minor",)) == "default_price"
    assert default_field_of(("rates", 2, "start_minute")) == "rates.2.start_minute"
