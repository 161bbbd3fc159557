"""VAT on gross prices: derived per receipt and rate, rounded half-up to the minor unit (DESIGN §3)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

BASIS_POINTS = 10_000


def vat_included(gross_minor: int, rate_bp: int) -> int:
    """The VAT contained in a gross amount, e.g. 19 % of 119.00 → 19.00; half-up, sign-symmetric."""
    if rate_bp == 0 or gross_minor == 0:
        return 0
    sign = -1 if gross_minor < 0 else 1
    numerator = abs(gross_minor) * rate_bp
    denominator = BASIS_POINTS + rate_bp
    return sign * ((2 * numerator + denominator) // (2 * denominator))


@dataclass(frozen=True, slots=True)
class RateTotal:
    rate_bp: int
    gross_minor: int
    vat_minor: int

    @property
    def net_minor(self) -> int:
        return self.gross_minor - self.vat_minor


def split_by_rate(lines: Iterable[tuple[int, int]]) -> list[RateTotal]:
    """Group (gross, rate) lines per rate and derive VAT once per rate, not per line."""
    gross_by_rate: dict[int, int] = defaultdict(int)
    for gross_minor, rate_bp in lines:
        gross_by_rate[rate_bp] += gross_minor
    return [
        RateTotal(rate_bp=rate, gross_minor=gross, vat_minor=vat_included(gross, rate))
        for rate, gross in sorted(gross_by_rate.items())
        if gross
    ]
