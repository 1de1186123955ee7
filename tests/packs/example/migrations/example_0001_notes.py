"""The example pack's notes table: the first revision of the pack's own branch.

Revision ID: example_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "example_0001"
down_revision = None
branch_labels = ("example",)
depends_on = "0007"  # the engine as this pack was written against


def upgrade() -> None:
    op.create_table(
        "example_notes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_example_notes")),
    )
    op.create_index("ix_example_notes_project_id", "example_notes", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_example_notes_project_id", table_name="example_notes")
    op.drop_table("example_notes")
