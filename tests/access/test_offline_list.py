"""A gate's offline list: whole and incremental, derived from tabs, balances, visits and media states, with the
change marks kept by the database triggers of migrations 0008 and 0012 (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from tapzone.access.offline_list import offline_list
from tapzone.access.offline_model import ListEntry, OfflineListView
from tapzone.context import RequestContext
from tapzone.media.lifecycle import block_medium
from tapzone.pos.catalogue import Item
from tapzone.pos.tabs import save_items
from tests.access.conftest import Zone

TRIGGERS = {
    "tz_gl_media",
    "tz_gl_visits_ins",
    "tz_gl_visits_upd",
    "tz_gl_card_accounts",
    "tz_gl_balances_ins",
    "tz_gl_balances_upd",
    "tz_gl_tab_lines_ins",
    "tz_gl_tab_lines_upd",
    "tz_gl_tabs",
}


def gate_list(zone: Zone, gate: int, since: int = 0, lag_s: int = 0, limit: int = 1000) -> OfflineListView:
    ctx = RequestContext(zone.world.venue_id, gate, None, "read")
    pages, after = [], 0
    while True:
        page = offline_list(zone.world.uow, ctx, since=since, after=after, limit=limit, lag_s=lag_s)
        pages.append(page)
        if page.next_after is None:
            break
        after = page.next_after
    first = pages[0]
    return first.model_copy(update={"entries": [entry for page in pages for entry in page.entries]})


def by_uid(view: OfflineListView) -> dict[str, ListEntry]:
    return {entry.uid: entry for entry in view.entries}


def test_every_mark_trigger_exists_at_head(zone: Zone) -> None:
    """A later migration that rebuilds one of these tables on SQLite drops its triggers; this catches it."""
    with zone.world.uow.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            names = set(conn.execute(sa.text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())
        else:
            names = set(conn.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
    assert names >= TRIGGERS


def test_whole_list_says_who_may_enter_and_who_may_leave(zone: Zone) -> None:
    w = zone.world
    zone.sell(zone.credit_entry, "L-SETTLED")
    zone.sell(zone.credit_entry, "L-OWES")
    zone.sell(zone.prepaid_entry, "L-VALUE", load=2000)
    zone.sell(zone.credit_entry, "L-BLOCKED")
    for uid in ("L-SETTLED", "L-OWES", "L-VALUE", "L-BLOCKED"):
        assert zone.tap(zone.entrance, uid).allowed
    save_items(w.uow, w.ctx(), medium_uid="L-OWES", items=[Item(w.beer_id)])
    block_medium(w.uow, w.manager(), medium_uid="L-BLOCKED", reason="test")
    zone.sell(zone.credit_entry, "L-NOT-IN")

    entries = by_uid(gate_list(zone, zone.exit))
    assert set(entries) == {"L-SETTLED", "L-OWES", "L-VALUE", "L-BLOCKED", "L-NOT-IN"}
    flags = {uid: (e.inside, e.owed, e.may_enter, e.may_exit, e.state) for uid, e in entries.items()}
    assert flags == {
        "L-SETTLED": (True, None, False, True, "active"),
        "L-OWES": (True, "unpaid-goods", False, False, "active"),
        "L-VALUE": (True, "prepaid-value-left", False, False, "active"),
        "L-BLOCKED": (True, None, False, False, "blocked"),
        "L-NOT-IN": (False, None, True, True, "active"),
    }
    # The other zone's gate does not carry this zone's media.
    assert gate_list(zone, zone.other_zone_gate).entries == []
    # Paging by medium id gives the same list.
    assert by_uid(gate_list(zone, zone.exit, limit=2)) == entries


def test_changes_since_a_version_carry_only_what_changed(zone: Zone) -> None:
    w = zone.world
    for uid in ("C-1", "C-2", "C-3"):
        zone.sell(zone.credit_entry, uid)
        zone.tap(zone.entrance, uid)
    version = gate_list(zone, zone.exit).version
    assert version > 0
    assert gate_list(zone, zone.exit, since=version).entries == []

    save_items(w.uow, w.ctx(), medium_uid="C-2", items=[Item(w.beer_id)])
    changed = gate_list(zone, zone.exit, since=version)
    assert [(e.uid, e.owed) for e in changed.entries] == [("C-2", "unpaid-goods")]

    # Leaving (settled, unbound at the exit) removes the medium from the list.
    assert zone.tap(zone.exit, "C-1").unbound
    later = gate_list(zone, zone.exit, since=changed.version)
    assert [(e.uid, e.present) for e in later.entries] == [("C-1", False)]


def test_a_version_is_only_handed_out_once_no_transaction_can_commit_below_it(zone: Zone) -> None:
    zone.sell(zone.credit_entry, "V-1")
    # With the default lag the marks just written are too young to be promised: version stays below them,
    # so the next "since" brings them again rather than risking one that commits late.
    young = gate_list(zone, zone.exit, lag_s=3600)
    assert young.version == 0
    assert [e.uid for e in gate_list(zone, zone.exit, since=max(young.version, 0) or 1, lag_s=3600).entries] == ["V-1"]
