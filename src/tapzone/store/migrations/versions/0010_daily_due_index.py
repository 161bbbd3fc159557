"""daily due index: open card accounts by venue, valid-until date and id

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 10:00:00.000000

The daily job (issue 9) works through the open card accounts of a venue whose validity ends by the business
day, in batches ordered by (valid_until, id). Without this partial index each batch walked card accounts by
primary key (1,000,000 in bench/scale.py, every venue's) and filtered them one by one; with it, a batch is a
range scan that reads its own rows and stops at the batch size.

On PostgreSQL the gate-list mark (0008) becomes a PL/pgSQL function: as a SQL function it was parsed and
planned again on every call, once per closed account, which cost half the time of closing a batch of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK_BODY = """
INSERT INTO gate_list_marks (medium_id, venue_id, seq, changed_s)
SELECT id, venue_id, nextval('gate_list_seq'), floor(extract(epoch FROM clock_timestamp()))::bigint
FROM media WHERE id = p_medium
ON CONFLICT (medium_id) DO UPDATE SET seq = excluded.seq, changed_s = excluded.changed_s
"""
MARK_PLPGSQL = (
    "CREATE OR REPLACE FUNCTION tz_gate_list_mark(p_medium bigint) RETURNS void LANGUAGE plpgsql AS $$ BEGIN"
    f"{MARK_BODY}; END $$"
)
MARK_SQL = f"CREATE OR REPLACE FUNCTION tz_gate_list_mark(p_medium bigint) RETURNS void LANGUAGE sql AS $${MARK_BODY}$$"


def upgrade() -> None:
    op.create_index(
        "ix_card_accounts_open_due",
        "card_accounts",
        ["venue_id", "valid_until", "id"],
        unique=False,
        sqlite_where=sa.text("closed_at IS NULL"),
        postgresql_where=sa.text("closed_at IS NULL"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(MARK_PLPGSQL)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(MARK_SQL)
    op.drop_index("ix_card_accounts_open_due", table_name="card_accounts")
