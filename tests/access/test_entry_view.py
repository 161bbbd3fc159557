"""The entry view's feed (seed 001): failed exits with their tabs, pushed to the gate monitor as server-sent
events. The stream is driven through the ASGI app itself, so the test controls when the browser goes away."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from tapzone.access.model import DISPLAY_TEXTS, Passage, Reason
from tapzone.access.monitor import access_events_after, flagged_access_events, recent_access_events
from tapzone.access.offline_apply import OfflineEvent, apply_offline_events
from tapzone.access.offline_model import OfflineFlag
from tapzone.api.app import create_app
from tapzone.context import RequestContext
from tapzone.errors import PermissionDenied
from tapzone.i18n import LANGUAGES, catalog
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tapzone.venues.credentials import identify_device, issue_device_token, set_password, sign_in
from tapzone.web.gates import FLAG_LABELS, REASON_LABELS
from tests.access.conftest import Zone

PASSWORD = "kim-test-password"


def failed_exit(zone: Zone, uid: str) -> tuple[int, int]:
    """A credit visitor with a beer on the tab tries to leave: the ids of the entry and the refused exit."""
    w = zone.world
    zone.sell(zone.credit_entry, uid)
    zone.tap(zone.entrance, uid)
    save_items(w.uow, w.ctx(), medium_uid=uid, items=[Item(w.beer_id)])
    assert zone.tap(zone.exit, uid).reason == "unpaid-goods"
    events = recent_access_events(w.uow, w.ctx(), limit=2).events
    return events[1].id, events[0].id


def offline_exit_while_owing(zone: Zone, uid: str) -> None:
    """During an outage the exit let an owing visitor out from its list; the upload flags the passage."""
    w = zone.world
    zone.sell(zone.credit_entry, uid)
    zone.tap(zone.entrance, uid)
    save_items(w.uow, w.ctx(), medium_uid=uid, items=[Item(w.beer_id)])
    event = OfflineEvent(
        seq=1,
        tap_id=f"offline-{uid}",
        medium_uid=uid,
        allowed=True,
        reason=Reason.GOODBYE,
        passage=Passage.EXIT,
        occurred_at=w.uow.clock.now(),
    )
    uploaded = apply_offline_events(w.uow, RequestContext(w.venue_id, zone.exit, None, "read"), [event])
    assert [result.flag for result in uploaded.results] == [OfflineFlag.OWING.value]


def test_events_after_an_id_come_oldest_first_with_gate_names_and_tabs(zone: Zone) -> None:
    w = zone.world
    entry_id, exit_id = failed_exit(zone, "EV1")
    feed = access_events_after(w.uow, w.ctx(), after_id=entry_id - 1)
    assert [event.id for event in feed.events] == [entry_id, exit_id]
    entry, refused = feed.events
    assert (entry.gate_name, entry.failed_exit) == ("Entrance", False)
    assert (refused.gate_name, refused.reason, refused.failed_exit) == ("Exit", "unpaid-goods", True)
    assert len(refused.tab_ids) == 1  # the till opens this order directly
    assert feed.timezone == "Europe/Berlin"
    assert access_events_after(w.uow, w.ctx(), after_id=exit_id).events == []


def test_the_entry_view_needs_access_view(zone: Zone) -> None:
    w = zone.world
    with pytest.raises(PermissionDenied):
        access_events_after(w.uow, w.ctx(operator=None), after_id=0)
    with pytest.raises(PermissionDenied):
        recent_access_events(w.uow, w.ctx(operator=None))
    assert recent_access_events(w.uow, w.ctx(operator=w.gate_staff_id)).events == []


def test_every_reason_has_a_label_in_every_language() -> None:
    assert set(REASON_LABELS) == set(Reason)
    texts = set(REASON_LABELS.values()) | set(DISPLAY_TEXTS.values())
    for language in LANGUAGES:
        assert sorted(text for text in texts if text not in catalog(language)) == [], language


def test_every_offline_flag_has_a_label_in_every_language() -> None:
    assert set(FLAG_LABELS) == set(OfflineFlag)
    texts = set(FLAG_LABELS.values()) | {"Flagged offline passages"}
    for language in LANGUAGES:
        assert sorted(text for text in texts if text not in catalog(language)) == [], language


def test_flagged_offline_passages_are_listed_newest_first(zone: Zone) -> None:
    w = zone.world
    failed_exit(zone, "EV-ONLINE")  # refused online: not flagged
    offline_exit_while_owing(zone, "EV-OFF")
    flagged = flagged_access_events(w.uow, w.ctx()).events
    assert [(e.medium_uid, e.gate_name, e.offline, e.flag) for e in flagged] == [
        ("EV-OFF", "Exit", True, "passed-offline-while-owing")
    ]
    with pytest.raises(PermissionDenied):
        flagged_access_events(w.uow, w.ctx(operator=None))


class Monitor:
    """A browser's EventSource on /gates/events, as raw ASGI: the test decides when it disconnects."""

    def __init__(self, zone: Zone, database_url: str) -> None:
        w = zone.world
        self.app = create_app(database_url)
        self.uow = self.app.state.services.uow
        token = issue_device_token(w.uow, w.till_id)
        set_password(w.uow, w.cashier_id, PASSWORD)
        session = sign_in(self.uow, identify_device(self.uow, token), "kim", PASSWORD)
        self.cookies = f"tz_device={token}; tz_staff={session.token}"
        self.connections_held: list[int] = []

    def read(
        self,
        query: str,
        *,
        stop: Callable[[str], bool] = lambda _: False,
        last_event_id: str | None = None,
        leave_after_s: float | None = None,
    ) -> str:
        """The stream's text until `stop(text)` holds or `leave_after_s` passed; then the client goes away, and
        the server must end the response by itself within a few polls."""
        headers = [(b"cookie", self.cookies.encode()), (b"accept", b"text/event-stream")]
        if last_event_id is not None:
            headers.append((b"last-event-id", last_event_id.encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/gates/events",
            "raw_path": b"/gates/events",
            "query_string": query.encode(),
            "root_path": "",
            "headers": headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        chunks: list[str] = []
        gone = False
        leave_at = time.monotonic() + leave_after_s if leave_after_s is not None else None
        started: dict[str, Any] = {}
        pool = self.uow.engine.pool

        async def receive() -> dict[str, Any]:
            if gone or (leave_at is not None and time.monotonic() > leave_at):
                return {"type": "http.disconnect"}  # returned at once, like a server that saw the close
            await anyio.sleep_forever()
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            nonlocal gone
            if message["type"] == "http.response.start":
                started.update(message)
                return
            chunks.append(message.get("body", b"").decode())
            # Each message is sent between polls: no database connection may be held at this point.
            self.connections_held.append(pool.checkedout())
            if stop("".join(chunks)):
                gone = True

        async def run() -> None:
            with anyio.fail_after(10):
                await self.app(scope, receive, send)

        # A thread of its own: another suite in this process (Playwright) may already run a loop here.
        with ThreadPoolExecutor(1) as worker:
            worker.submit(anyio.run, run).result()
        assert started["status"] == 200
        assert dict(started["headers"])[b"content-type"].startswith(b"text/event-stream")
        return "".join(chunks)


@pytest.fixture
def monitor(zone: Zone, db_url: str) -> Iterator[Monitor]:
    opened = Monitor(zone, db_url)
    yield opened
    opened.uow.engine.dispose()


def test_the_stream_pushes_rows_and_ends_when_the_browser_goes_away(zone: Zone, monitor: Monitor) -> None:
    entry_id, exit_id = failed_exit(zone, "EV2")
    text = monitor.read(f"after={entry_id - 1}", stop=lambda text: f"id: {exit_id}\n" in text)
    assert text.startswith("retry: ")
    assert f"id: {entry_id}\nevent: access-event\n" in text
    refused = text[text.index(f"id: {exit_id}\n") :]
    assert 'class="event denied failed-exit"' in refused
    assert "Unbezahlte Waren" in refused  # the venue speaks German, and so does the cashier's screen
    assert 'href="/till?medium=EV2"' in refused  # a till: one click opens the tab
    assert all(line.startswith(("id: ", "event: ", "data: ", "retry: ")) for line in text.splitlines() if line)
    assert set(monitor.connections_held) == {0}


def test_a_reconnect_resumes_after_the_last_event_received(zone: Zone, monitor: Monitor) -> None:
    entry_id, exit_id = failed_exit(zone, "EV3")
    text = monitor.read(
        f"after={entry_id - 1}", last_event_id=str(entry_id), stop=lambda text: f"id: {exit_id}\n" in text
    )
    assert f"id: {entry_id}\n" not in text


def test_without_a_starting_point_the_stream_begins_with_the_next_event(zone: Zone, monitor: Monitor) -> None:
    failed_exit(zone, "EV4")
    text = monitor.read("", leave_after_s=1.5)  # several polls
    assert text == "retry: 2000\n\n"


def test_a_screen_without_sign_in_is_told_once_and_not_streamed(zone: Zone, monitor: Monitor) -> None:
    monitor.cookies = monitor.cookies.split(";")[0]  # the device is paired, nobody signed in
    assert monitor.read("after=0") == "event: signed-out\ndata: \n\n"


def test_the_monitor_shows_flagged_offline_passages(zone: Zone, monitor: Monitor) -> None:
    """On the page (the last day's flagged passages, above the events) and in the pushed row, in German."""
    offline_exit_while_owing(zone, "EV5")
    monitor.uow.clock = zone.world.uow.clock  # the page's last day counts back from the venue's (test) time
    with TestClient(monitor.app) as client:
        page = client.get("/gates", headers={"cookie": monitor.cookies})
    assert page.status_code == 200
    section = page.text[
        page.text.index('<section class="card flagged"') : page.text.index('<section class="card monitor"')
    ]
    assert "Markierte Offline-Durchgänge" in section
    assert 'data-medium="EV5" data-flag="passed-offline-while-owing"' in section
    assert "Offline durchgelassen trotz offener Beträge" in section

    text = monitor.read("after=0", stop=lambda text: 'data-medium="EV5" data-passage="exit"' in text)
    row = text[text.rindex("<tr ", 0, text.index('data-medium="EV5" data-passage="exit"')) :]
    assert 'class="event allowed flagged"' in row.split(">", 1)[0]
    assert '<small class="flag">Offline durchgelassen trotz offener Beträge</small>' in row
