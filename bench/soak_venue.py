"""The soak's venue: the benchmark tills and prepaid media (scratch.py), plus a paid zone with two-way gates.

Tills sell on their own prepaid media (every medium belongs to one till, as a visitor stands at one till at a
time), so a till always knows what its media owe and can settle them; gates tap their own entry media in and
out again. The venue's automatic unbinding is off, so a medium leaves and enters again under one visit for
the whole run (as in gate_taps.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import gate_taps
import scratch
from tapzone.access.model import Direction
from tapzone.access.setup import add_gate, create_entry_product, create_zone
from tapzone.context import RequestContext
from tapzone.plans.card_accounts import CreditType
from tapzone.store.uow import UnitOfWork
from tapzone.venues.credentials import issue_device_token
from tapzone.venues.model import DeviceKind
from tapzone.venues.settings import update_venue_settings
from tapzone.venues.setup import add_staff

ENTRY_UID_BASE = 700_000
INITIAL_LOAD_MINOR = 10_000_000  # every sale and tab sale of a run fits: a refusal is a finding, not the workload


@dataclass(frozen=True, slots=True)
class Device:
    """One simulated till or gate: its device id and bearer token, and the media it works on."""

    device_id: int
    token: str
    uids: tuple[str, ...]
    is_gate: bool


@dataclass(frozen=True, slots=True)
class SoakVenue:
    venue_id: int
    tills: list[Device]
    gates: list[Device]
    product_ids: list[int]
    entry_product_id: int

    @property
    def devices(self) -> list[Device]:
        return [*self.tills, *self.gates]


def build_soak_venue(url: str, *, tills: int, gates: int, media_per_device: int, processes: int) -> SoakVenue:
    """Migrate the scratch database, set up tills with prepaid media and gates with entry media."""
    bench = scratch.build_venue(
        url,
        tills=tills,
        media=tills * media_per_device,
        initial_load_minor=INITIAL_LOAD_MINOR,
        processes=processes,
    )
    engine = scratch.setup_engine(url)
    try:
        uow = UnitOfWork(engine)
        admin = add_staff(uow, bench.venue_id, name="Soak Admin", login="soak-admin", role="admin")
        update_venue_settings(
            uow, RequestContext(bench.venue_id, bench.first_device, admin, "setup-settings"), auto_unbind=False
        )
        zone = create_zone(uow, bench.venue_id, name="Pools")
        entry_product = create_entry_product(
            uow,
            bench.venue_id,
            name="Day ticket",
            price_minor=gate_taps.ENTRY_PRICE,
            vat_rate_bp=700,
            zone_id=zone,
            credit_type=CreditType.NONE,  # nothing can be owed: every exit is allowed, every entry after it too
        )
        gate_ids = [
            add_gate(
                uow, bench.venue_id, name=f"Gate {k + 1:02d}", kind=DeviceKind.TURNSTILE, zone_id=zone, direction=d
            )
            for k, d in enumerate([Direction.BOTH] * gates)
        ]
        gate_tokens = [issue_device_token(uow, gate) for gate in gate_ids]
    finally:
        engine.dispose()

    entry_uids = [str(ENTRY_UID_BASE + n) for n in range(gates * media_per_device)]
    if entry_uids:
        gate_taps._sell_range(url, bench.venue_id, bench.first_device, bench.staff_id, entry_product, entry_uids)
    scratch.settle_database(url)
    till_devices = [
        Device(device, token, tuple(bench.uids[k::tills]), is_gate=False)
        for k, (device, token) in enumerate(bench.tills)
    ]
    gate_devices = [
        Device(gate, token, tuple(entry_uids[k::gates]), is_gate=True)
        for k, (gate, token) in enumerate(zip(gate_ids, gate_tokens, strict=True))
    ]
    return SoakVenue(bench.venue_id, till_devices, gate_devices, [p for p, _ in bench.products], entry_product)
