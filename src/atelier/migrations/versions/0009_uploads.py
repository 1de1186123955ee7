"""uploads (seed 002) and their extracted text, searchable: an FTS5 table kept in step by
triggers on SQLite, a generated tsvector column with a GIN index on PostgreSQL

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import atelier.core.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_WHEN = atelier.core.db.UTCDateTime(timezone=True)

# SQLite: "unicode61 remove_diacritics 0" folds case but keeps accents, as PostgreSQL's
# 'simple' configuration does, so that a query finds the same uploads on both.
_SQLITE_UP = (
    "CREATE VIRTUAL TABLE upload_texts_fts USING fts5("
    "content, upload_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 0')",
    "CREATE TRIGGER upload_texts_fts_insert AFTER INSERT ON upload_texts BEGIN "
    "INSERT INTO upload_texts_fts (content, upload_id) VALUES (new.content, new.upload_id); "
    "END",
    "CREATE TRIGGER upload_texts_fts_delete AFTER DELETE ON upload_texts BEGIN "
    "DELETE FROM upload_texts_fts WHERE upload_id = old.upload_id; END",
    "CREATE TRIGGER upload_texts_fts_update AFTER UPDATE OF content ON upload_texts BEGIN "
    "DELETE FROM upload_texts_fts WHERE upload_id = old.upload_id; "
    "INSERT INTO upload_texts_fts (content, upload_id) VALUES (new.content, new.upload_id); "
    "END",
)
_POSTGRES_UP = (
    "ALTER TABLE upload_texts ADD COLUMN search tsvector "
    "GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED",
    "CREATE INDEX ix_upload_texts_search ON upload_texts USING gin (search)",
)


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("original_name", sa.String(length=1024), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("mime_type", sa.String(length=127), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "PROCESSING",
                "COMPLETED",
                "FAILED",
                "DELETED",
                name="upload_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("job_id", sa.Uuid(), nullable=True),
        sa.Column("metadata", _JSON, nullable=True),
        sa.Column("thumbnail_path", sa.String(length=500), nullable=True),
        sa.Column("processed_at", _WHEN, nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["jobs.id"], name=op.f("fk_uploads_job_id_jobs"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_uploads_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_uploads_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_uploads")),
    )
    op.create_index("ix_uploads_user_id", "uploads", ["user_id"])
    op.create_index("ix_uploads_status", "uploads", ["status"])
    op.create_index("ix_uploads_user_created", "uploads", ["user_id", "created_at"])
    op.create_index("ix_uploads_project_id", "uploads", ["project_id"])
    op.create_table(
        "upload_texts",
        sa.Column("upload_id", sa.Uuid(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("page_starts", _JSON, nullable=True),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.id"],
            name=op.f("fk_upload_texts_upload_id_uploads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("upload_id", name=op.f("pk_upload_texts")),
    )
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES_UP if dialect == "postgresql" else _SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS upload_texts_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS upload_texts_fts")
    op.drop_table("upload_texts")
    op.drop_index("ix_uploads_project_id", table_name="uploads")
    op.drop_index("ix_uploads_user_created", table_name="uploads")
    op.drop_index("ix_uploads_status", table_name="uploads")
    op.drop_index("ix_uploads_user_id", table_name="uploads")
    op.drop_table("uploads")
