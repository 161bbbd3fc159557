"""The audit log, read-only: every privileged action with who, where and when, newest first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tapzone.venues.listing import audit_filters, read_audit_log
from tapzone.web.office.common import Office, guarded, office_page, pager_links, paging
from tapzone.web.session import uow_of

router = APIRouter(include_in_schema=False)


@router.get("/office/audit")
def audit_page(request: Request) -> Response:
    def show(office: Office) -> Response:
        limit, offset = paging(request)
        query = request.query_params
        device_text = query.get("device", "")
        uow, ctx = uow_of(request), office.who.context()
        page = read_audit_log(
            uow,
            ctx,
            action=query.get("action") or None,
            device_id=int(device_text) if device_text.isdigit() else None,
            limit=limit,
            offset=offset,
        )
        actions, devices = audit_filters(uow, ctx)
        return office_page(
            request,
            office,
            "office/audit.html",
            title="Audit log",
            page=page,
            links=pager_links(request, page, "/office/audit"),
            action_options=[(action, action) for action in actions],
            device_options=devices,
            action=query.get("action", ""),
            device=device_text,
        )

    return guarded(request, show)
