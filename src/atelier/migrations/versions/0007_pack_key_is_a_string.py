"""a project's (and a template's) pack is any installed pack's key: the closed enum's
CHECK constraint goes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys the enum allowed, for the way back.
_OLD_KEYS = ("general", "strategy", "sdp", "optimind", "techledger", "genesis")


def _old_type() -> sa.Enum:
    return sa.Enum(*_OLD_KEYS, name="pack", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    for table in ("projects", "templates"):
        # Batch mode: SQLite rebuilds the table (it cannot drop a constraint in place).
        with op.batch_alter_table(table) as batch_op:
            batch_op.drop_constraint(op.f(f"ck_{table}_pack"), type_="check")
            batch_op.alter_column(
                "pack", existing_type=sa.String(length=32), type_=sa.String(length=32)
            )


def downgrade() -> None:
    for table in ("projects", "templates"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_check_constraint("pack", sa.column("pack").in_(_OLD_KEYS))
