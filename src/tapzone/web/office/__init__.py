"""The back office at /office: venue configuration, reports and the audit log, one module per area.

Screens call the use cases and reads directly (never HTTP to the server itself); every write and read
checks its permission inside the use case (`venue.configure` to configure, `report.view` for reports and
the audit log), so a screen offering a link is a convenience, never the guard.
"""

from __future__ import annotations

from fastapi import APIRouter

from tapzone.web.office import (
    account_types,
    audit,
    devices,
    entry_products,
    home,
    price_groups,
    products,
    reports,
    staff,
    tariffs,
    venue,
    zones,
)

AREAS = (
    home,
    venue,
    zones,
    devices,
    staff,
    products,
    price_groups,
    entry_products,
    account_types,
    tariffs,
    reports,
    audit,
)

router = APIRouter(include_in_schema=False)
for _area in AREAS:
    router.include_router(_area.router)
