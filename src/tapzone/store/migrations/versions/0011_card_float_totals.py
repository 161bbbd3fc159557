"""card float totals: the card liability balances summed per account type, medium kind, purpose and unit

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 11:00:00.000000

The card-float report read every card account of the venue (250,000 per venue in bench/scale.py, seconds);
from now on the posting code keeps these totals in the same transaction as the balances, per booking device
so tills never share a row. What the balances hold when this runs is carried over into slot 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The card liability balances as they stand, grouped as the table keeps them (ledger/float_totals.py);
# 0 stands for "no account type".
CARRY_OVER = """
INSERT INTO card_float_totals (venue_id, slot, account_type_id, medium_kind, purpose, unit, balance, accounts)
SELECT ab.venue_id, 0, COALESCE(ca.account_type_id, 0), m.kind, la.purpose, la.unit,
       SUM(ab.balance), SUM(CASE WHEN ab.balance <> 0 THEN 1 ELSE 0 END)
FROM account_balances ab
JOIN ledger_accounts la ON la.id = ab.account_id
JOIN card_accounts ca ON ca.id = la.card_account_id
JOIN media m ON m.id = ca.medium_id
WHERE ab.bucket = '' AND la.purpose IN ('card-money', 'card-units')
GROUP BY ab.venue_id, COALESCE(ca.account_type_id, 0), m.kind, la.purpose, la.unit
HAVING SUM(ab.balance) <> 0 OR SUM(CASE WHEN ab.balance <> 0 THEN 1 ELSE 0 END) <> 0
"""


def upgrade() -> None:
    op.create_table(
        "card_float_totals",
        sa.Column("venue_id", ID, nullable=False),
        sa.Column("slot", ID, nullable=False),
        sa.Column("account_type_id", ID, nullable=False),
        sa.Column("medium_kind", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("accounts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "venue_id", "slot", "account_type_id", "medium_kind", "purpose", "unit", name=op.f("pk_card_float_totals")
        ),
    )
    op.execute(CARRY_OVER)


def downgrade() -> None:
    op.drop_table("card_float_totals")
