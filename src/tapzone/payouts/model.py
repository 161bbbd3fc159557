"""Pure payout domain: methods and states, validated bank details, SEPA-safe text and decimal amounts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from tapzone.errors import CurrencyMismatch, InvalidBic, InvalidIban, InvalidRequest

# SEPA credit transfers are in euro only (EPC SCT rulebook); a venue in another currency pays out in cash.
SEPA_CURRENCY = "EUR"
MAX_NAME_LENGTH = 70  # Max70Text in pain.001; also the width of payouts.account_holder


class PayoutMethod(StrEnum):
    CASH = "cash"  # handed over at the till, paid at once
    BANK = "bank"  # transferred in a SEPA batch


class PayoutState(StrEnum):
    REQUESTED = "requested"  # bank payout waiting for the next export; the only state that can be revoked
    EXPORTED = "exported"  # in a SEPA file handed to the bank; still owed until the bank confirms
    PAID = "paid"  # cash handed over, or the bank confirmed the transfer
    REVOKED = "revoked"  # taken back before export; the value is on the card again


# The EPC's basic Latin character set, which every SEPA bank must accept; anything else may be rejected.
_SEPA_CHARS = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
# Letters NFKD does not decompose into a base letter plus accents.
_SPELLED_OUT = str.maketrans(
    {
        "ß": "ss",
        "Æ": "AE",
        "æ": "ae",
        "Ø": "O",
        "ø": "o",
        "Œ": "OE",
        "œ": "oe",
        "Ł": "L",
        "ł": "l",
        "Đ": "D",
        "đ": "d",
        "Þ": "TH",
        "þ": "th",
        "&": "+",
    }
)


def sepa_text(text: str, max_length: int) -> str:
    """`text` in the EPC basic Latin set: accents dropped (Müller → Muller), other characters spaced out.

    The stored name keeps its spelling; only the file sent to the bank is restricted, since banks outside
    Germany may reject umlauts and a rejected transfer costs the visitor days.
    """
    decomposed = unicodedata.normalize("NFKD", text.translate(_SPELLED_OUT))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_SEPA_CHARS.sub(" ", plain).split())[:max_length].strip()


def decimal_amount(amount_minor: int, exponent: int = 2) -> str:
    """Minor units as the decimal text pain.001 wants ("1234" → "12.34"), by integer arithmetic only."""
    if amount_minor < 0:
        raise ValueError("SEPA amounts are never negative")
    whole, fraction = divmod(amount_minor, 10**exponent)
    return f"{whole}.{fraction:0{exponent}d}" if exponent else str(whole)


@dataclass(frozen=True, slots=True)
class BankAccount:
    """A holder with a normalised SEPA IBAN and a BIC when one is given or known for the IBAN's bank."""

    holder: str
    iban: str
    bic: str | None


def check_sepa_currency(currency: str) -> None:
    if currency != SEPA_CURRENCY:
        raise CurrencyMismatch(f"SEPA credit transfers are in {SEPA_CURRENCY} only; this venue works in {currency}")


def bank_account(holder: str, iban: str, bic: str | None = None) -> BankAccount:
    """Validate and normalise bank details: the IBAN's check digits and national format (schwifty), a SEPA
    country, a well-formed BIC. Without a BIC the bank's own is looked up from the IBAN where schwifty's
    registry knows it; within SEPA a transfer needs no BIC ("IBAN only"), so none found is no error."""
    name = " ".join(holder.split())
    if not name or len(name) > MAX_NAME_LENGTH:
        raise InvalidRequest(f"the account holder's name must be 1..{MAX_NAME_LENGTH} characters")
    if not any(char.isalnum() for char in sepa_text(name, MAX_NAME_LENGTH)):
        raise InvalidRequest("the account holder's name must be written in Latin letters for a SEPA transfer")
    try:
        parsed = IBAN(iban)
    except SchwiftyException as error:
        raise InvalidIban(f"the IBAN is not valid: {error}") from error
    if not parsed.in_sepa_zone:
        raise InvalidIban(f"IBANs of {parsed.country_code} cannot receive SEPA credit transfers")
    if bic is not None and bic.strip():
        try:
            found: BIC | None = BIC(bic.strip())
        except SchwiftyException as error:
            raise InvalidBic(f"the BIC is not valid: {error}") from error
    else:
        found = parsed.bic
    return BankAccount(holder=name, iban=str(parsed.compact), bic=str(found.compact) if found else None)
