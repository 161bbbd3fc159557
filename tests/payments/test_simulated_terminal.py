"""The in-process terminal of the demo and the fast tests: the same port, rules on the amount, no sockets."""

from __future__ import annotations

from tapzone.payments.simulated import SimJournal
from tapzone.payments.terminal import CardTerminal, Outcome, SimulatedTerminal


def fresh() -> CardTerminal:
    return SimulatedTerminal(SimJournal())


def test_rules_by_amount() -> None:
    terminal = fresh()
    approved = terminal.authorise(1250, "EUR", reference="1")
    assert (approved.outcome, approved.approved_amount_minor, approved.reference) == (Outcome.APPROVED, 1250, "sim/1")
    assert terminal.authorise(1213, "EUR", reference="2").outcome is Outcome.DECLINED
    assert terminal.authorise(1214, "EUR", reference="3").outcome is Outcome.ABORTED


def test_a_timeout_is_pending_until_the_status_inquiry_finds_the_approval() -> None:
    terminal = fresh()
    result = terminal.authorise(1215, "EUR", reference="9")
    assert result.is_pending and result.approved_amount_minor is None
    status = terminal.status("9")
    assert (status.outcome, status.approved_amount_minor) == (Outcome.APPROVED, 1215)
    assert terminal.status("unknown").outcome is Outcome.ERROR


def test_reversal_and_end_of_day() -> None:
    terminal = fresh()
    first = terminal.authorise(1000, "EUR", reference="1")
    terminal.authorise(2000, "EUR", reference="2")
    assert first.reference is not None
    assert terminal.reverse(first.reference).outcome is Outcome.APPROVED
    assert terminal.reverse(first.reference).outcome is Outcome.DECLINED
    assert terminal.status("1").outcome is Outcome.ABORTED  # reversed: no money taken
    day = terminal.end_of_day()
    assert (day.approved_amount_minor, day.transaction_count) == (2000, 1)
    assert terminal.reverse("2").outcome is Outcome.DECLINED  # settled by the end-of-day
    assert not terminal.abort()


def test_adapters_share_the_process_journal_by_default() -> None:
    SimulatedTerminal().authorise(700, "EUR", reference="shared-journal-probe")
    assert SimulatedTerminal().status("shared-journal-probe").outcome is Outcome.APPROVED
