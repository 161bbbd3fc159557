"""The pure fold of a day's posting sums into report figures (no database)."""

from __future__ import annotations

from tapzone.reports.daily_revenue import rate_label
from tapzone.reports.day_sums import DaySums, account_qualifier


def test_account_qualifier_reads_the_key() -> None:
    assert account_qualifier("revenue:vat1900:EUR", "revenue", "EUR") == "vat1900"
    assert account_qualifier("card-clearing:online:simulator:EUR", "card-clearing", "EUR") == "online:simulator"
    assert account_qualifier("cash:EUR", "cash", "EUR") == ""


def test_sums_fold_revenue_tenders_and_value() -> None:
    sums = DaySums()
    sums.add("revenue", "vat1900", "settlement", -756)
    sums.add("vat-payable", "vat1900", "settlement", -144)
    sums.add("revenue", "breakage", "account-delete", -300)
    sums.add("card-money", "", "settlement", 900)
    sums.add("cash", "", "cash-in", 10_000)
    sums.add("cash", "", "topup", 2_000)
    sums.add("card-clearing", "online:psp", "topup", 1_500)
    sums.add("card-money", "", "topup", -3_500)
    sums.add("card-money", "", "payout", 1_000)
    sums.add("card-money", "", "payout", -1_000)  # the same bank payout revoked
    sums.add("card-money", "", "account-delete", 300)
    assert (sums.net, sums.vat, sums.other) == ({1900: 756}, {1900: 144}, {"breakage": 300})
    assert sums.goods_by_code == {"settlement": 900}
    assert (sums.drawer, dict(sums.received)) == (10_000, {"prepaid": 900, "cash": 2_000, "online:psp": 1_500})
    assert (sums.loaded["topup"], sums.paid_back["payout"], sums.card_other) == (3_500, 0, -300)


def test_rate_labels() -> None:
    assert [rate_label(bp) for bp in (1900, 700, 550, 0)] == ["19 %", "7 %", "5.5 %", "0 %"]
