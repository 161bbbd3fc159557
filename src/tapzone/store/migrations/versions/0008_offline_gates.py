"""offline gates: change marks for gate lists (kept by triggers), offline events on access events

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00.000000

The marks are written by triggers, not by the use cases: every writer that changes what a gate decides (binding,
zone, inside, medium state, tab lines, the sign of a prepaid balance) is covered, including writers added later.
A later migration that rebuilds one of these tables on SQLite (batch mode copies the table and drops its triggers)
must create them again; tests/access/test_offline_list.py fails when a trigger is missing at head.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tapzone.store.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (trigger name, table, event, WHEN condition or "", SQL expression(s) naming the medium ids to mark)
TRIGGERS: list[tuple[str, str, str, str, list[str]]] = [
    ("tz_gl_media", "media", "UPDATE OF state, qr_token", "", ["NEW.id"]),
    ("tz_gl_visits_ins", "visits", "INSERT", "", ["NEW.medium_id"]),
    (
        "tz_gl_visits_upd",
        "visits",
        "UPDATE OF closed_at, inside, medium_id, zone_id, entered_at",
        "",
        ["NEW.medium_id", "OLD.medium_id"],
    ),
    ("tz_gl_card_accounts", "card_accounts", "UPDATE OF closed_at, medium_id", "", ["NEW.medium_id", "OLD.medium_id"]),
    (
        "tz_gl_balances_ins",
        "card_balances",
        "INSERT",
        "NEW.balance > 0",
        ["(SELECT medium_id FROM card_accounts WHERE id = NEW.card_account_id)"],
    ),
    (
        "tz_gl_balances_upd",
        "card_balances",
        "UPDATE OF balance",
        "(OLD.balance > 0) <> (NEW.balance > 0)",
        ["(SELECT medium_id FROM card_accounts WHERE id = NEW.card_account_id)"],
    ),
    (
        "tz_gl_tab_lines_ins",
        "tab_lines",
        "INSERT",
        "",
        ["(SELECT c.medium_id FROM tabs t JOIN card_accounts c ON c.id = t.card_account_id WHERE t.id = NEW.tab_id)"],
    ),
    (
        "tz_gl_tab_lines_upd",
        "tab_lines",
        "UPDATE OF state",
        "",
        ["(SELECT c.medium_id FROM tabs t JOIN card_accounts c ON c.id = t.card_account_id WHERE t.id = NEW.tab_id)"],
    ),
]

SQLITE_MARK = """
INSERT INTO gate_list_marks (medium_id, venue_id, seq, changed_s)
SELECT m.id, m.venue_id,
       (SELECT COALESCE(MAX(g.seq), 0) + 1 FROM gate_list_marks g WHERE g.venue_id = m.venue_id),
       CAST(strftime('%s', 'now') AS INTEGER)
FROM media m WHERE m.id = {medium}
ON CONFLICT (medium_id) DO UPDATE SET seq = excluded.seq, changed_s = excluded.changed_s;
"""

PG_MARK_FUNCTION = """
CREATE FUNCTION tz_gate_list_mark(p_medium bigint) RETURNS void LANGUAGE sql AS $$
INSERT INTO gate_list_marks (medium_id, venue_id, seq, changed_s)
SELECT id, venue_id, nextval('gate_list_seq'), floor(extract(epoch FROM clock_timestamp()))::bigint
FROM media WHERE id = p_medium
ON CONFLICT (medium_id) DO UPDATE SET seq = excluded.seq, changed_s = excluded.changed_s
$$
"""


def _create_triggers_sqlite() -> None:
    for name, table, event, when, media in TRIGGERS:
        condition = f"WHEN {when} " if when else ""
        marks = []
        for medium in media:
            if medium.startswith("OLD."):
                # Only when the row moved to another medium (a transfer); NEW's medium is marked anyway.
                medium_sql = "(CASE WHEN OLD.medium_id <> NEW.medium_id THEN OLD.medium_id END)"
            else:
                medium_sql = medium
            marks.append(SQLITE_MARK.format(medium=medium_sql))
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {condition}BEGIN {''.join(marks)} END")


def _create_triggers_postgres() -> None:
    op.execute("CREATE SEQUENCE gate_list_seq")
    op.execute(PG_MARK_FUNCTION)
    for name, table, event, when, media in TRIGGERS:
        body = []
        for medium in media:
            if medium.startswith("OLD."):
                body.append("IF OLD.medium_id <> NEW.medium_id THEN PERFORM tz_gate_list_mark(OLD.medium_id); END IF;")
            else:
                body.append(f"PERFORM tz_gate_list_mark({medium});")
        op.execute(
            f"CREATE FUNCTION {name}_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{' '.join(body)} RETURN NULL; END $$"
        )
        pg_when = f"WHEN ({when.replace('<>', 'IS DISTINCT FROM')}) " if when else ""
        op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW {pg_when}EXECUTE FUNCTION {name}_fn()")


def upgrade() -> None:
    op.create_table(
        "gate_list_marks",
        sa.Column("medium_id", ID, nullable=False),
        sa.Column("venue_id", ID, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("changed_s", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["medium_id"], ["media.id"], name=op.f("fk_gate_list_marks_medium_id_media")),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"], name=op.f("fk_gate_list_marks_venue_id_venues")),
        sa.PrimaryKeyConstraint("medium_id", name=op.f("pk_gate_list_marks")),
    )
    op.create_index("ix_gate_list_marks_venue_seq", "gate_list_marks", ["venue_id", "seq"], unique=False)
    op.create_index("ix_gate_list_marks_venue_changed", "gate_list_marks", ["venue_id", "changed_s"], unique=False)
    op.add_column("gates", sa.Column("offline_seq", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("access_events", sa.Column("offline", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("access_events", sa.Column("gate_seq", sa.BigInteger(), nullable=True))
    op.add_column("access_events", sa.Column("applied_at", tapzone.store.types.UTCDateTime(), nullable=True))
    op.add_column("access_events", sa.Column("flag", sa.String(length=40), nullable=True))
    op.create_index(
        "ix_visits_open_zone_medium",
        "visits",
        ["venue_id", "zone_id", "medium_id"],
        unique=False,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _create_triggers_postgres()
    else:
        _create_triggers_sqlite()
    # Media already bound when this runs: mark them once so the first "changes since" after the upgrade is whole.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            "INSERT INTO gate_list_marks (medium_id, venue_id, seq, changed_s) "
            "SELECT v.medium_id, v.venue_id, nextval('gate_list_seq'), floor(extract(epoch FROM now()))::bigint "
            "FROM visits v WHERE v.closed_at IS NULL"
        )
    else:
        op.execute(
            "INSERT INTO gate_list_marks (medium_id, venue_id, seq, changed_s) "
            "SELECT v.medium_id, v.venue_id, v.id, CAST(strftime('%s', 'now') AS INTEGER) "
            "FROM visits v WHERE v.closed_at IS NULL"
        )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table, *_ in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgres else ""))
        if postgres:
            op.execute(f"DROP FUNCTION IF EXISTS {name}_fn()")
    if postgres:
        op.execute("DROP FUNCTION IF EXISTS tz_gate_list_mark(bigint)")
    op.drop_index("ix_visits_open_zone_medium", table_name="visits")
    with op.batch_alter_table("access_events", schema=None) as batch_op:
        batch_op.drop_column("flag")
        batch_op.drop_column("applied_at")
        batch_op.drop_column("gate_seq")
        batch_op.drop_column("offline")
    with op.batch_alter_table("gates", schema=None) as batch_op:
        batch_op.drop_column("offline_seq")
    op.drop_index("ix_gate_list_marks_venue_changed", table_name="gate_list_marks")
    op.drop_index("ix_gate_list_marks_venue_seq", table_name="gate_list_marks")
    op.drop_table("gate_list_marks")
    if postgres:
        op.execute("DROP SEQUENCE IF EXISTS gate_list_seq")
