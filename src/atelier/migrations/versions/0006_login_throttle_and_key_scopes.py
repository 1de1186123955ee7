"""login throttle and API key scopes: failed-login counts per client address and per
account, and what each API key may do

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 07:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import atelier.core.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", atelier.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", atelier.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_login_failures")),
    )
    # Keys made before scopes existed could read and write; they keep that, but not
    # minting keys, which is what a key must now be given explicitly.
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", JSON, nullable=True))
    op.execute(
        sa.text("UPDATE api_keys SET scopes = :scopes").bindparams(
            sa.bindparam("scopes", ["read", "write"], type_=JSON)
        )
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column("scopes", existing_type=JSON, nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("scopes")
    op.drop_table("login_failures")
