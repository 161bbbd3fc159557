"""scale indexes: journal entries by venue and effective time, and by venue and business day

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00.000000

The card-float report reads each card liability account's materialised balance and takes back the postings
of entries after the cut-off; these indexes find those entries without scanning the journal (20 million
postings in bench/scale.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_journal_entries_venue_id_effective_at"), "journal_entries", ["venue_id", "effective_at"], unique=False
    )
    op.create_index(
        op.f("ix_journal_entries_venue_id_business_day"), "journal_entries", ["venue_id", "business_day"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_journal_entries_venue_id_business_day"), table_name="journal_entries")
    op.drop_index(op.f("ix_journal_entries_venue_id_effective_at"), table_name="journal_entries")
