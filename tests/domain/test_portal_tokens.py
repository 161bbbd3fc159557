"""Portal session tokens and the simulated provider's signatures, without a database: only what this server
signed, unchanged and unexpired, is accepted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tapzone.errors import InvalidRequest, InvalidSignature, Unauthenticated
from tapzone.payments.online import ProviderStatus, SimulatorProvider
from tapzone.portal.pins import check_pin_format, hash_pin, pin_matches
from tapzone.portal.tokens import Credential, PortalClaims, credential_fingerprint, issue_token, read_token

KEY = b"k" * 32
NOW = datetime(2026, 7, 4, 10, 0, tzinfo=UTC)
CLAIMS = PortalClaims(
    venue_id=1,
    medium_id=7,
    visit_id=3,
    credential=Credential.PIN,
    fingerprint=credential_fingerprint("$argon2id$..."),
    expires_at=NOW + timedelta(minutes=15),
)


def test_a_token_reads_back_its_claims_until_it_expires() -> None:
    token = issue_token(KEY, CLAIMS)
    assert read_token(KEY, token, NOW) == CLAIMS
    with pytest.raises(Unauthenticated):
        read_token(KEY, token, NOW + timedelta(minutes=15))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        lambda token: token.replace(".", ".e", 1),  # body changed
        lambda token: "tzp2" + token[4:],  # another version
        lambda token: token.split(".")[0],  # parts missing
        lambda token: "",
    ],
)
def test_a_changed_token_is_refused(mangle: object) -> None:
    token = issue_token(KEY, CLAIMS)
    with pytest.raises(Unauthenticated):
        read_token(KEY, mangle(token), NOW)  # type: ignore[operator]


def test_a_token_of_another_key_is_refused() -> None:
    with pytest.raises(Unauthenticated):
        read_token(b"x" * 32, issue_token(KEY, CLAIMS), NOW)


def test_a_pin_opens_only_the_visit_it_was_set_for() -> None:
    stored = hash_pin(3, "482913")
    assert pin_matches(stored, 3, "482913")
    assert not pin_matches(stored, 4, "482913")  # the medium was returned and issued again
    assert not pin_matches(stored, 3, "482914")
    assert not pin_matches(None, 3, "482913")
    assert not pin_matches(stored, None, "482913")


@pytest.mark.parametrize("pin", ["12345", "1234567890123", "12345a", "１２３４５６", ""])
def test_pin_format(pin: str) -> None:
    with pytest.raises(InvalidRequest):
        check_pin_format(pin)


def test_simulator_confirmations_verify_only_with_the_shared_secret() -> None:
    provider = SimulatorProvider(b"s" * 32)
    payload, signature = provider.signed_confirmation("sim_1", 2000, "EUR")
    confirmation = provider.parse_confirmation(payload, signature)
    assert (confirmation.provider_reference, confirmation.status, confirmation.paid_amount_minor) == (
        "sim_1",
        ProviderStatus.PAID,
        2000,
    )
    with pytest.raises(InvalidSignature):
        SimulatorProvider(b"t" * 32).parse_confirmation(payload, signature)
    with pytest.raises(InvalidSignature):
        provider.parse_confirmation(payload.replace(b"2000", b"9000"), signature)
    created = provider.create_payment(2000, "EUR", "tz-abc", "https://example.org/back")
    assert created == provider.create_payment(2000, "EUR", "tz-abc", "https://example.org/back")  # a retry
    assert created.provider_reference != provider.create_payment(2000, "EUR", "tz-abd", "https://x/").provider_reference
