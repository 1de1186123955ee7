"""chat replies: a conversation's reply job, and the AI calls made for a conversation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-09 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_job_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            "fk_conversations_reply_job_id_jobs",
            "jobs",
            ["reply_job_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("ai_generations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            "fk_ai_generations_conversation_id_conversations",
            "conversations",
            ["conversation_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            "ix_ai_generations_conversation_id", ["conversation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("ai_generations", schema=None) as batch_op:
        batch_op.drop_index("ix_ai_generations_conversation_id")
        batch_op.drop_constraint(
            "fk_ai_generations_conversation_id_conversations", type_="foreignkey"
        )
        batch_op.drop_column("conversation_id")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_constraint("fk_conversations_reply_job_id_jobs", type_="foreignkey")
        batch_op.drop_column("reply_job_id")
