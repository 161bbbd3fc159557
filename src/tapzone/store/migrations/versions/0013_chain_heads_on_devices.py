"""chain heads on devices: where each device's journal and audit hash chains end

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 10:00:00.000000

A hash chain proves every row up to its last one, but not that the last one is the newest: deleting a device's
newest journal entry (and fixing the balances) or its newest audit row left chains that verify. From now on
the transaction that appends to a chain also records its head on the device row it already holds, and
`tapzone check` compares the two. The heads are set here from the chains as they stand.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64

# Entries booked before the journal chain existed carry no sequence number and are no part of it. A device
# without a chain keeps the column defaults: seq 0 and the genesis hash.
JOURNAL_HEADS = """
UPDATE devices SET
  journal_head_seq = (SELECT MAX(j.device_seq) FROM journal_entries j WHERE j.device_id = devices.id),
  journal_head_hash = (SELECT j.hash FROM journal_entries j
                        WHERE j.device_id = devices.id AND j.device_seq IS NOT NULL
                        ORDER BY j.device_seq DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM journal_entries j WHERE j.device_id = devices.id AND j.device_seq IS NOT NULL)
"""
AUDIT_HEADS = """
UPDATE devices SET
  audit_head_seq = (SELECT MAX(a.seq) FROM audit_log a WHERE a.device_id = devices.id),
  audit_head_hash = (SELECT a.hash FROM audit_log a WHERE a.device_id = devices.id ORDER BY a.seq DESC LIMIT 1)
WHERE EXISTS (SELECT 1 FROM audit_log a WHERE a.device_id = devices.id)
"""


def upgrade() -> None:
    op.add_column("devices", sa.Column("journal_head_seq", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column(
        "devices", sa.Column("journal_head_hash", sa.String(length=64), server_default=GENESIS_HASH, nullable=False)
    )
    op.add_column("devices", sa.Column("audit_head_seq", sa.Integer(), server_default="0", nullable=False))
    op.add_column(
        "devices", sa.Column("audit_head_hash", sa.String(length=64), server_default=GENESIS_HASH, nullable=False)
    )
    op.execute(JOURNAL_HEADS)
    op.execute(AUDIT_HEADS)


def downgrade() -> None:
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of `devices` would have to drop the table
    # every device-bound row references.
    for column in ("audit_head_hash", "audit_head_seq", "journal_head_hash", "journal_head_seq"):
        op.drop_column("devices", column)
