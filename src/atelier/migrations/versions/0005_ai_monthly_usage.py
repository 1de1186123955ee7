"""ai monthly usage: running totals of AI calls per user and organization and month,
what budget checks read (instead of summing the month's audit rows each time)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 14:02:43.070932
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The calendar month (UTC) of an audit row, as a date: its first day.
MONTH_SQL = {
    "postgresql": "CAST(date_trunc('month', created_at AT TIME ZONE 'UTC') AS DATE)",
    "sqlite": "date(created_at, 'start of month')",  # stored as naive UTC text
}


def upgrade() -> None:
    op.create_table(
        "ai_monthly_usage",
        sa.Column(
            "scope",
            sa.Enum(
                "user",
                "organization",
                name="usage_scope",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("total_tokens", sa.BigInteger(), nullable=False),
        sa.Column("estimated_cost", sa.Numeric(precision=18, scale=6), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "owner_id", "month", name=op.f("pk_ai_monthly_usage")),
    )
    # The totals of the calls made so far, so that budgets hold across the upgrade.
    month = MONTH_SQL[op.get_bind().dialect.name]
    for scope, owner in (("user", "user_id"), ("organization", "organization_id")):
        op.execute(
            # Only fixed names go into this text, no data.
            f"INSERT INTO ai_monthly_usage "
            f"(scope, owner_id, month, total_tokens, estimated_cost, calls) "
            f"SELECT '{scope}', {owner}, {month}, COALESCE(SUM(total_tokens), 0), "
            f"COALESCE(SUM(estimated_cost), 0), COUNT(*) FROM ai_generations "
            f"WHERE {owner} IS NOT NULL GROUP BY {owner}, {month}"
        )


def downgrade() -> None:
    op.drop_table("ai_monthly_usage")
