"""the instance PIN (seed 002 security_settings) and the credentials that entered it

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import atelier.core.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = atelier.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "security_settings",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("pin_hash", sa.String(length=255), nullable=True),
        sa.Column("salt", sa.String(length=64), nullable=True),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.Column("updated_by_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_security_settings_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_settings")),
    )
    op.create_table(
        "pin_unlocks",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("unlocked_until", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pin_unlocks_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_pin_unlocks")),
    )


def downgrade() -> None:
    op.drop_table("pin_unlocks")
    op.drop_table("security_settings")
