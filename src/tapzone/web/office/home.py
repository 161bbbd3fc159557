"""The back office's overview: what the signed-in staff member may do here, as links to those screens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tapzone.web.office.common import Office, guarded, office_page

router = APIRouter(include_in_schema=False)


@router.get("/office")
def overview(request: Request) -> Response:
    def show(office: Office) -> Response:
        return office_page(
            request, office, "office/home.html", title="Overview", permissions=sorted(office.permissions)
        )

    return guarded(request, show)
