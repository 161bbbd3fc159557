"""The gate monitor ("entry view", seed 001): live gate events, failed exits highlighted with their reason.

The page lists the newest events and then listens to `/gates/events`, a server-sent event stream that pushes
every new event as a rendered table row (htmx-ext-sse swaps it in). The stream polls the database rather than
listening inside this process, because taps also arrive through the MQTT bridge and other workers. On a till,
a failed exit links to `/till?medium=…`, which opens that medium's tab for settlement (seed 001: "gå till
kassan och direkt få upp beställningen").

Passages a gate allowed offline and the server flagged on upload (owing, blocked, not bound, passback, a
decision that differs) carry their flag in their row, and the page opens with the last day's flagged passages
listed above the events, so a flag on a row long scrolled away, or set on an older event, is not missed.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from zoneinfo import ZoneInfo

import anyio.to_thread
from babel.dates import format_time
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from tapzone.access.model import DISPLAY_TEXTS, Reason
from tapzone.access.monitor import (
    AccessFeed,
    MonitorEvent,
    access_events_after,
    flagged_access_events,
    recent_access_events,
)
from tapzone.access.offline_model import OfflineFlag
from tapzone.errors import PermissionDenied, Unauthenticated
from tapzone.venues.credentials import identify_staff
from tapzone.venues.model import DeviceKind
from tapzone.web.render import render
from tapzone.web.session import STAFF_COOKIE, NeedsPairing, NeedsSignIn, Screen, screen, uow_of

router = APIRouter(include_in_schema=False)

POLL_INTERVAL_S = 0.3
# The staff session is looked up again this often, so a monitor stops once its sign-in ends or expires.
SESSION_CHECK_S = 15.0
# A comment line this often keeps proxies from closing an idle stream and lets a dead client show up as a
# failed write.
HEARTBEAT_S = 15.0
RECONNECT_MS = 2000
SHOWN_MAX = 50

# What the monitor calls each decision: short labels for staff (seed 001 shows "Obetalda varor"), while the
# visitor-facing display text of the gate is shown beneath a refusal.
REASON_LABELS: dict[Reason, str] = {
    Reason.WELCOME: "Entry allowed",
    Reason.GOODBYE: "Exit allowed",
    Reason.UNKNOWN_MEDIUM: "Unknown medium",
    Reason.MEDIUM_BLOCKED: "Medium blocked",
    Reason.MEDIUM_LOST: "Medium reported lost",
    Reason.MEDIUM_RETURNED: "Medium not in use",
    Reason.WRONG_ZONE: "Wrong zone",
    Reason.ALREADY_INSIDE: "Already inside",
    Reason.NOT_INSIDE: "No entry recorded",
    Reason.UNPAID_GOODS: "Unpaid goods",
    Reason.PREPAID_VALUE_LEFT: "Prepaid value left",
    Reason.OVERSTAY_UNPAID: "Time exceeded",
}

# What the server found wrong with a passage a gate allowed offline (offline_apply): staff follow these up.
FLAG_LABELS: dict[OfflineFlag, str] = {
    OfflineFlag.OWING: "Passed offline while owing",
    OfflineFlag.BLOCKED: "Passed offline while blocked",
    OfflineFlag.NOT_BOUND: "Passed offline, medium not bound",
    OfflineFlag.PASSBACK: "Passed offline, second entry without exit",
    OfflineFlag.DECIDED_ONLINE_OTHERWISE: "Offline decision differs from the server's",
}


def _at_till(who: Screen) -> bool:
    # Only a till can open a tab; a gate's own screen shows the failed exit without the link.
    return who.device.device_kind == DeviceKind.TILL


def _row(event: MonitorEvent, timezone: str, language: str, *, resolved: bool = False) -> dict[str, Any]:
    try:
        reason: Reason | None = Reason(event.reason)
    except ValueError:
        reason = None  # a code newer than this screen: shown as it is
    try:
        flag: OfflineFlag | None = OfflineFlag(event.flag) if event.flag else None
    except ValueError:
        flag = None
    return {
        "id": event.id,
        "time": format_time(event.recorded_at, format="medium", tzinfo=ZoneInfo(timezone), locale=language),
        "gate_name": event.gate_name,
        "medium_uid": event.medium_uid,
        "passage": event.passage,
        "allowed": event.allowed,
        "failed_exit": event.failed_exit,
        "resolved": resolved,
        "label": REASON_LABELS.get(reason) if reason else None,
        "code": event.reason,
        "display_text": DISPLAY_TEXTS.get(reason) if reason else None,
        "unbound": event.unbound,
        "offline": event.offline,
        "flag": event.flag,
        "flag_label": FLAG_LABELS.get(flag) if flag else None,
    }


def _rows_newest_first(feed: AccessFeed, language: str) -> list[dict[str, Any]]:
    """A failed exit counts as resolved once the same medium later left through a gate."""
    exited: set[str] = set()
    rows = []
    for event in feed.events:
        if event.allowed and event.passage == "exit":
            exited.add(event.medium_uid)
        resolved = event.failed_exit and event.medium_uid in exited
        rows.append(_row(event, feed.timezone, language, resolved=resolved))
    return rows


@router.get("/gates")
def gate_monitor(request: Request) -> Response:
    who = screen(request)
    try:
        feed = recent_access_events(uow_of(request), who.context("read"), limit=SHOWN_MAX)
        flagged = flagged_access_events(uow_of(request), who.context("read"))
    except PermissionDenied as refused:
        return render(request, "gates/page.html", language=who.language, who=who, error=refused, status_code=403)
    return render(
        request,
        "gates/page.html",
        language=who.language,
        who=who,
        error=None,
        events=_rows_newest_first(feed, who.language),
        flagged=[_row(event, flagged.timezone, who.language) for event in flagged.events],
        after=max((event.id for event in feed.events), default=0),
        at_till=_at_till(who),
        shown_max=SHOWN_MAX,
    )


def _message(name: str, data: str, event_id: int | None = None) -> str:
    # Every line of the payload needs its own "data:" prefix; the browser joins them with newlines.
    lines = "".join(f"data: {line}\n" for line in (data.splitlines() or [""]))
    header = f"id: {event_id}\n" if event_id is not None else ""
    return f"{header}event: {name}\n{lines}\n"


def _start_after(request: Request, after: int | None) -> int | None:
    """The browser's own reconnect names the last event it received; resume from there, not from the page.
    Without either, the stream starts with the next event."""
    resumed = request.headers.get("last-event-id", "")
    if resumed.isdecimal():
        return max(after or 0, int(resumed))
    return after


@router.get("/gates/events")
def access_event_stream(request: Request, after: int | None = None) -> Response:
    """text/event-stream of new gate events as table rows. A screen that is not (or no longer) signed in
    with `access.view` gets one `signed-out` message, and the page reloads into the sign-in."""
    try:
        who = screen(request)
    except (NeedsPairing, NeedsSignIn):
        return _event_stream(_signed_out())
    return _event_stream(_feed(request, who, request.cookies.get(STAFF_COOKIE, ""), _start_after(request, after)))


def _event_stream(messages: AsyncIterator[str]) -> Response:
    # no-transform and X-Accel-Buffering keep proxies from buffering the stream into silence.
    headers = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}
    return StreamingResponse(messages, media_type="text/event-stream", headers=headers)


async def _signed_out() -> AsyncIterator[str]:
    yield _message("signed-out", "")


async def _feed(request: Request, who: Screen, session_token: str, after_id: int | None) -> AsyncIterator[str]:
    """Poll for events above `after_id` until the browser goes away.

    Each poll runs in a worker thread (the database calls block) and opens and closes its own transaction,
    so an open monitor holds no connection between polls and the event loop never waits on the database.
    """
    yield f"retry: {RECONNECT_MS}\n\n"
    session_checked = sent = time.monotonic()
    while not await request.is_disconnected():
        check_session = time.monotonic() - session_checked >= SESSION_CHECK_S
        try:
            after_id, rows = await anyio.to_thread.run_sync(_poll, request, who, session_token, after_id, check_session)
        except (PermissionDenied, Unauthenticated):
            yield _message("signed-out", "")
            return
        if check_session:
            session_checked = time.monotonic()
        for event_id, html in rows:
            yield _message("access-event", html, event_id)
            sent = time.monotonic()
        if time.monotonic() - sent >= HEARTBEAT_S:
            yield ": keep-alive\n\n"
            sent = time.monotonic()
        await anyio.sleep(POLL_INTERVAL_S)


def _poll(
    request: Request, who: Screen, session_token: str, after_id: int | None, check_session: bool
) -> tuple[int, list[tuple[int, str]]]:
    """One poll: the new cursor and the new events as (id, rendered row)."""
    uow = uow_of(request)
    if check_session:
        identify_staff(uow, who.device, session_token)
    if after_id is None:
        newest = recent_access_events(uow, who.context("read"), limit=1).events
        return (newest[0].id if newest else 0), []
    feed = access_events_after(uow, who.context("read"), after_id=after_id)
    rendered = []
    for event in feed.events:
        html = render(
            request,
            "gates/event.html",
            language=who.language,
            event=_row(event, feed.timezone, who.language),
            at_till=_at_till(who),
        ).body
        rendered.append((event.id, bytes(html).decode()))
    return (rendered[-1][0] if rendered else after_id), rendered
