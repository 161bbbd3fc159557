"""The ZVT client and adapter against the terminal simulator on 127.0.0.1: every path a payment can take,
including the ones that leave it pending and how a status inquiry or a reversal then settles it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from tapzone.payments.terminal import CardTerminal, Outcome, TerminalResult, ZvtTerminal
from tapzone.payments.zvt.adapter import TerminalMemory
from tapzone.payments.zvt.client import Ending, ZvtClient
from tapzone.payments.zvt.simulator import Behaviour, ZvtSimulator


@pytest.fixture
def sim() -> Iterator[ZvtSimulator]:
    with ZvtSimulator(password="123456", stall_s=0.6, card_prompt_s=0.05, ack_timeout_s=1.0) as simulator:
        yield simulator


def terminal(sim: ZvtSimulator, *, ack_timeout_s: float = 5.0, message_timeout_s: float = 90.0) -> ZvtTerminal:
    host, port = sim.address
    return ZvtTerminal(
        host,
        port,
        "123456",
        memory=TerminalMemory(),
        ack_timeout_s=ack_timeout_s,
        message_timeout_s=message_timeout_s,
    )


def test_approved(sim: ZvtSimulator) -> None:
    port: CardTerminal = terminal(sim)
    result = port.authorise(1250, "EUR", reference="p-1")
    assert result.outcome is Outcome.APPROVED
    assert (result.approved_amount_minor, result.currency, result.card_type) == (1250, "EUR", "girocard")
    assert result.reference == "zvt/0001/000001"
    assert (result.receipt_number, result.terminal_id) == ("0001", "52500001")
    (record,) = sim.records
    assert (record.kind, record.result_code, record.amount_minor) == ("payment", 0, 1250)


def test_declined(sim: ZvtSimulator) -> None:
    result = terminal(sim).authorise(1013, "EUR", reference="p-1")  # ...13: declined by the issuer
    assert (result.outcome, result.result_code) == (Outcome.DECLINED, 0x05)
    assert result.approved_amount_minor is None
    sim.behaviour = Behaviour.DECLINE
    assert terminal(sim).authorise(2000, "EUR", reference="p-2").outcome is Outcome.DECLINED
    assert [r.result_code for r in sim.records] == [5, 5]


def test_cancelled_on_the_terminal(sim: ZvtSimulator) -> None:
    result = terminal(sim).authorise(1014, "EUR", reference="p-1")  # ...14: the customer presses cancel
    assert (result.outcome, result.result_code) == (Outcome.ABORTED, 0x6C)


def test_cancelled_from_the_till_while_the_terminal_waits_for_the_card(sim: ZvtSimulator) -> None:
    sim.behaviour = Behaviour.WAIT_FOR_CARD
    asked_for_card = threading.Event()
    host, port = sim.address
    memory = TerminalMemory()
    paying = ZvtTerminal(host, port, "123456", memory=memory, on_intermediate=lambda *_: asked_for_card.set())
    results: list[TerminalResult] = []
    thread = threading.Thread(target=lambda: results.append(paying.authorise(5000, "EUR", reference="p-1")))
    thread.start()
    assert asked_for_card.wait(5)
    # The cancel request arrives through another adapter, as it would from another HTTP request.
    assert ZvtTerminal(host, port, "123456", memory=memory).abort()
    thread.join(5)
    (result,) = results
    assert (result.outcome, result.result_code) == (Outcome.ABORTED, 0x6C)
    assert sim.records[-1].result_code == 0x6C
    assert not ZvtTerminal(host, port, "123456", memory=memory).abort()  # nothing runs any more


def test_timeout_stays_pending_and_the_status_inquiry_finds_the_auto_reversal(sim: ZvtSimulator) -> None:
    sim.behaviour = Behaviour.STALL  # the host takes longer than the till waits
    till = terminal(sim, message_timeout_s=0.15)
    result = till.authorise(4200, "EUR", reference="p-7")
    assert result.outcome is Outcome.TIMED_OUT and result.is_pending
    # The terminal approved, could not deliver the result and reversed the payment itself.
    status = till.status("p-7")
    assert status.outcome is Outcome.ABORTED
    assert "reversed" in status.text
    payment, reversal = sim.records
    assert payment.reversed and reversal.original_trace_number == payment.trace_number


def test_dropped_connection_stays_pending_and_the_status_inquiry_finds_the_approval(sim: ZvtSimulator) -> None:
    till = terminal(sim)
    result = till.authorise(2015, "EUR", reference="p-8")  # ...15: the line drops before the completion
    assert result.outcome is Outcome.CONNECTION_LOST and result.is_pending
    assert result.approved_amount_minor is None  # never approved on a guess
    assert result.reference == "zvt/0001/000001"  # but what was seen is kept, e.g. for a reversal
    status = till.status("p-8")
    assert status.outcome is Outcome.APPROVED
    assert (status.approved_amount_minor, status.reference) == (2015, "zvt/0001/000001")
    assert till.status("another payment").outcome is Outcome.ERROR  # the last transaction is not that one


def test_no_answer_at_all_stays_pending(sim: ZvtSimulator) -> None:
    sim.behaviour = Behaviour.NO_ANSWER
    till = terminal(sim, ack_timeout_s=0.15)
    result = till.authorise(1000, "EUR", reference="p-9")
    assert result.outcome is Outcome.TIMED_OUT
    sim.behaviour = Behaviour.APPROVE
    status = till.status("p-9")
    assert status.outcome is Outcome.ERROR and "no transaction" in status.text  # still pending: nothing known
    assert not sim.records


def test_reversal(sim: ZvtSimulator) -> None:
    till = terminal(sim)
    paid = till.authorise(3300, "EUR", reference="p-1")
    assert paid.reference is not None
    reversed_ = till.reverse(paid.reference)
    assert reversed_.outcome is Outcome.APPROVED
    assert reversed_.approved_amount_minor == 3300
    assert sim.records[0].reversed
    again = till.reverse(paid.reference)
    assert again.outcome is Outcome.DECLINED  # a payment is reversed once
    # Handed the payment id instead of a terminal reference, only a payment this process remembers is reversed.
    second = till.authorise(1800, "EUR", reference="p-2")
    assert till.reverse("p-2").outcome is Outcome.APPROVED
    assert sim.records[-1].original_trace_number == int(second.trace_number or 0)
    assert till.reverse("p-unknown").outcome is Outcome.ERROR


def test_end_of_day(sim: ZvtSimulator) -> None:
    till = terminal(sim)
    first = till.authorise(1000, "EUR", reference="p-1")
    till.authorise(2500, "EUR", reference="p-2")
    till.authorise(1013, "EUR", reference="p-3")  # declined: not in the batch
    day = till.end_of_day()
    assert (day.outcome, day.approved_amount_minor, day.transaction_count) == (Outcome.APPROVED, 3500, 2)
    assert till.end_of_day().approved_amount_minor == 0
    assert first.reference is not None
    assert till.reverse(first.reference).outcome is Outcome.DECLINED  # the batch is closed


def test_registration_and_status_enquiry_on_the_client(sim: ZvtSimulator) -> None:
    client = ZvtClient(*sim.address, password="123456")
    registered = client.register("EUR")
    assert registered.ending is Ending.COMPLETED
    assert registered.completion == bytes.fromhex("19 00 29 52 50 00 01 49 09 78")
    assert ZvtClient(*sim.address, password="654321").end_of_day().ending is Ending.REFUSED  # wrong password
    enquiry = client.status_enquiry()
    assert (enquiry.ending, enquiry.status) == (Ending.COMPLETED, None)


def test_unreachable_terminal_is_an_error_not_a_pending_payment() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    result = ZvtTerminal("127.0.0.1", port, memory=TerminalMemory(), connect_timeout_s=0.5).authorise(
        1000, "EUR", reference="p-1"
    )
    assert result.outcome is Outcome.ERROR
    assert not result.is_pending
