"""Venue settings that every use case reads: currency, time zone, language and fiscal profile."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo


class FiscalProfile(StrEnum):
    """How prepaid value is taxed (DESIGN §3)."""

    DE = "de"  # top-up is a multi-purpose voucher: no VAT on load, VAT on goods at settlement
    RU = "ru"  # 54-FZ: top-up is an advance taxed at the calculated rate, offset when consumed
    GENERIC = "generic"  # like de


class DeviceKind(StrEnum):
    TILL = "till"
    TURNSTILE = "turnstile"  # opens for a valid tap; the visitor keeps the medium
    VALIDATOR = "validator"  # a reader on a free passage; the visitor keeps the medium
    COLLECTOR = "collector"  # an exit turnstile that swallows the wristband (seed 000 automatic withdrawal)
    MOBILE = "mobile"  # a phone acting as a validator (seed 000 "Мобильный оператор")
    RESOURCE = "resource"  # a service device: sunbed, sauna, fitness area (seed 002)
    KIOSK = "kiosk"  # a self-service machine without staff (seed 002 "Automat")
    FINGERPRINT_READER = "fingerprint-reader"  # confirms that the holder owns the medium (seed 002)
    SYSTEM = "system"  # the venue's own jobs (the daily job): books entries, never signs in
    PORTAL = "portal"  # the customer portal and payment-provider callbacks: online top-ups, never signs in


GATE_KINDS = frozenset({DeviceKind.TURNSTILE, DeviceKind.VALIDATOR, DeviceKind.COLLECTOR, DeviceKind.MOBILE})


SUPPORTED_LANGUAGES = frozenset({"en", "de", "sv", "ru"})


@dataclass(frozen=True, slots=True)
class Venue:
    id: int
    name: str
    currency: str
    timezone: str
    language: str
    fiscal_profile: FiscalProfile
    advance_vat_rate_bp: int | None
    # Whether the calling till may take payment with the medium: the till's override, else the venue's.
    pay_with_medium: bool = True
    member_debt_on_medium: bool = False

    def business_day(self, moment: datetime) -> date:
        """The calendar day in the venue's own time zone; tills and reports count days this way."""
        return moment.astimezone(ZoneInfo(self.timezone)).date()
