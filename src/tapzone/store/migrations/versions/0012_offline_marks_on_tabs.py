"""offline marks on tabs: mark a medium when its tab starts or stops owing, not on every sale

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 10:00:00.000000

Migration 0008 marked the medium on every `tab_lines` insert: one extra row write (and, on PostgreSQL, a
sequence step and a hot upsert) per sale. The offline list only reads, per open card account, whether the open
lines of its open tab sum above zero (`_owed_by_visit` in access/offline_list.py), so a mark is due only when
that can change:

* a line inserted open, unless it is positive and the tab's other open lines already sum above zero (the sale
  onto an already-owing tab: the medium owed before and still owes). The tab's writers hold the card account
  lock (`bound_card`, `lock_card_accounts`), so the sum read here is the committed one. Lines inserted settled
  (paid at once, `record_closed_tab`) never count and mark nothing;
* a line moving into or out of `open` (settled, cancelled, written off), or changing amount or tab;
* a tab with open lines leaving or entering `open`, or moving to another card account (a transfer);
* `visits.overstay_blocks_charged`, which the list reads for the time limit and which used to be covered by the
  overstay line's insert mark.

PostgreSQL does not allow subqueries in a trigger's WHEN, so there the sums are read in the trigger function.
The downgrade restores the triggers of 0008.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The medium holding a card account / a tab's account; NULL when there is none, which marks nothing.
ACCOUNT_MEDIUM = "(SELECT medium_id FROM card_accounts WHERE id = {account})"
TAB_MEDIUM = "(SELECT c.medium_id FROM tabs t JOIN card_accounts c ON c.id = t.card_account_id WHERE t.id = {tab})"
# Sum of the other open lines of the new line's tab: above zero means the tab owed before this line.
OTHER_OPEN = (
    "(SELECT COALESCE(SUM(l.amount_minor), 0) FROM tab_lines l "
    "WHERE l.tab_id = NEW.tab_id AND l.state = 'open' AND l.id <> NEW.id)"
)
OLD_ACCOUNT_MEDIUM = ACCOUNT_MEDIUM.format(account="OLD.card_account_id")
TAB_HAS_OPEN_LINES = "EXISTS (SELECT 1 FROM tab_lines l WHERE l.tab_id = NEW.id AND l.state = 'open')"

SQLITE_MARK = """
INSERT INTO gate_list_marks (medium_id, venue_id, seq, changed_s)
SELECT m.id, m.venue_id,
       (SELECT COALESCE(MAX(g.seq), 0) + 1 FROM gate_list_marks g WHERE g.venue_id = m.venue_id),
       CAST(strftime('%s', 'now') AS INTEGER)
FROM media m WHERE m.id = {medium}
ON CONFLICT (medium_id) DO UPDATE SET seq = excluded.seq, changed_s = excluded.changed_s;
"""

VISITS_COLUMNS_0008 = "closed_at, inside, medium_id, zone_id, entered_at"
VISITS_COLUMNS = VISITS_COLUMNS_0008 + ", overstay_blocks_charged"


def _sqlite_trigger(name: str, event: str, table: str, when: str, media: list[str]) -> str:
    marks = "".join(SQLITE_MARK.format(medium=medium) for medium in media)
    condition = f"WHEN {when} " if when else ""
    return f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {condition}BEGIN {marks} END"


def _sqlite_visits(columns: str) -> str:
    return _sqlite_trigger(
        "tz_gl_visits_upd",
        f"UPDATE OF {columns}",
        "visits",
        "",
        ["NEW.medium_id", "(CASE WHEN OLD.medium_id <> NEW.medium_id THEN OLD.medium_id END)"],
    )


def _upgrade_sqlite() -> None:
    for name in ("tz_gl_tab_lines_ins", "tz_gl_tab_lines_upd", "tz_gl_visits_upd"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(
        _sqlite_trigger(
            "tz_gl_tab_lines_ins",
            "INSERT",
            "tab_lines",
            f"NEW.state = 'open' AND NOT (NEW.amount_minor > 0 AND {OTHER_OPEN} > 0)",
            [TAB_MEDIUM.format(tab="NEW.tab_id")],
        )
    )
    op.execute(
        _sqlite_trigger(
            "tz_gl_tab_lines_upd",
            "UPDATE OF state, amount_minor, tab_id",
            "tab_lines",
            "(OLD.state = 'open' OR NEW.state = 'open') AND (OLD.state <> NEW.state "
            "OR OLD.amount_minor <> NEW.amount_minor OR OLD.tab_id <> NEW.tab_id)",
            [
                TAB_MEDIUM.format(tab="NEW.tab_id"),
                f"(CASE WHEN OLD.tab_id <> NEW.tab_id THEN {TAB_MEDIUM.format(tab='OLD.tab_id')} END)",
            ],
        )
    )
    op.execute(
        _sqlite_trigger(
            "tz_gl_tabs",
            "UPDATE OF state, card_account_id",
            "tabs",
            "((OLD.state = 'open') <> (NEW.state = 'open') OR OLD.card_account_id <> NEW.card_account_id) "
            f"AND {TAB_HAS_OPEN_LINES}",
            [
                ACCOUNT_MEDIUM.format(account="NEW.card_account_id"),
                f"(CASE WHEN OLD.card_account_id <> NEW.card_account_id THEN {OLD_ACCOUNT_MEDIUM} END)",
            ],
        )
    )
    op.execute(_sqlite_visits(VISITS_COLUMNS))


def _pg_function(name: str, body: str) -> None:
    op.execute(
        f"CREATE OR REPLACE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"
    )


def _pg_trigger(name: str, event: str, table: str, when: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    condition = f"WHEN ({when}) " if when else ""
    op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {condition}EXECUTE FUNCTION {name}_fn()")


def _upgrade_postgres() -> None:
    _pg_function(
        "tz_gl_tab_lines_ins",
        f"IF NEW.amount_minor <= 0 OR {OTHER_OPEN} <= 0 THEN "
        f"PERFORM tz_gate_list_mark({TAB_MEDIUM.format(tab='NEW.tab_id')}); END IF;",
    )
    _pg_trigger("tz_gl_tab_lines_ins", "INSERT", "tab_lines", "NEW.state = 'open'")
    _pg_function(
        "tz_gl_tab_lines_upd",
        f"PERFORM tz_gate_list_mark({TAB_MEDIUM.format(tab='NEW.tab_id')}); "
        "IF OLD.tab_id <> NEW.tab_id THEN "
        f"PERFORM tz_gate_list_mark({TAB_MEDIUM.format(tab='OLD.tab_id')}); END IF;",
    )
    _pg_trigger(
        "tz_gl_tab_lines_upd",
        "UPDATE OF state, amount_minor, tab_id",
        "tab_lines",
        "(OLD.state = 'open' OR NEW.state = 'open') AND (OLD.state IS DISTINCT FROM NEW.state "
        "OR OLD.amount_minor IS DISTINCT FROM NEW.amount_minor OR OLD.tab_id IS DISTINCT FROM NEW.tab_id)",
    )
    _pg_function(
        "tz_gl_tabs",
        f"IF {TAB_HAS_OPEN_LINES} THEN "
        f"PERFORM tz_gate_list_mark({ACCOUNT_MEDIUM.format(account='NEW.card_account_id')}); "
        "IF OLD.card_account_id <> NEW.card_account_id THEN "
        f"PERFORM tz_gate_list_mark({OLD_ACCOUNT_MEDIUM}); END IF; END IF;",
    )
    _pg_trigger(
        "tz_gl_tabs",
        "UPDATE OF state, card_account_id",
        "tabs",
        "(OLD.state = 'open') IS DISTINCT FROM (NEW.state = 'open') "
        "OR OLD.card_account_id IS DISTINCT FROM NEW.card_account_id",
    )
    _pg_trigger("tz_gl_visits_upd", f"UPDATE OF {VISITS_COLUMNS}", "visits", "")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgres()
    else:
        _upgrade_sqlite()


def downgrade() -> None:
    """Back to 0008: every tab line insert and every line state update marks; no trigger on tabs."""
    tab_medium = TAB_MEDIUM.format(tab="NEW.tab_id")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS tz_gl_tabs ON tabs")
        op.execute("DROP FUNCTION IF EXISTS tz_gl_tabs_fn()")
        for name, event in (("tz_gl_tab_lines_ins", "INSERT"), ("tz_gl_tab_lines_upd", "UPDATE OF state")):
            _pg_function(name, f"PERFORM tz_gate_list_mark({tab_medium});")
            _pg_trigger(name, event, "tab_lines", "")
        _pg_trigger("tz_gl_visits_upd", f"UPDATE OF {VISITS_COLUMNS_0008}", "visits", "")
        return
    for name in ("tz_gl_tabs", "tz_gl_tab_lines_ins", "tz_gl_tab_lines_upd", "tz_gl_visits_upd"):
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute(_sqlite_trigger("tz_gl_tab_lines_ins", "INSERT", "tab_lines", "", [tab_medium]))
    op.execute(_sqlite_trigger("tz_gl_tab_lines_upd", "UPDATE OF state", "tab_lines", "", [tab_medium]))
    op.execute(_sqlite_visits(VISITS_COLUMNS_0008))
