from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tapzone.pos.vat import RateTotal, split_by_rate, vat_included


@pytest.mark.parametrize(
    ("gross", "rate", "vat"),
    [(11900, 1900, 1900), (320, 700, 21), (100, 1900, 16), (1200, 2000, 200), (5, 1900, 1), (0, 1900, 0), (999, 0, 0)],
)
def test_vat_included_rounds_half_up(gross: int, rate: int, vat: int) -> None:
    assert vat_included(gross, rate) == vat


def test_vat_is_sign_symmetric() -> None:
    assert vat_included(-320, 700) == -vat_included(320, 700)


def test_vat_is_derived_per_rate_not_per_line() -> None:
    # Three 0.05 lines at 19 %: per line 0.01 each (0.03), per rate 0.15 → 0.02.
    assert split_by_rate([(5, 1900)] * 3) == [RateTotal(1900, 15, 2)]


@given(st.integers(min_value=0, max_value=10**11), st.integers(min_value=0, max_value=10_000))
def test_vat_never_exceeds_gross_and_matches_exact_rounding(gross: int, rate: int) -> None:
    from fractions import Fraction

    exact = Fraction(gross * rate, 10_000 + rate)
    vat = vat_included(gross, rate)
    assert 0 <= vat <= gross
    assert abs(Fraction(vat) - exact) <= Fraction(1, 2)
