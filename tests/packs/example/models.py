"""The example pack's one table, prefixed with its key. It is on the engine's metadata,
like any pack's, so ``atelier db check`` compares it with the pack's migration."""

from __future__ import annotations

import uuid

from sqlalchemy import Column, DateTime, Index, String, Table, Uuid, func

from atelier.core.db import Base

notes = Table(
    "example_notes",
    Base.metadata,
    Column("id", Uuid, primary_key=True, default=uuid.uuid4),
    Column("project_id", Uuid, nullable=False),
    Column("text", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
    Index("ix_example_notes_project_id", "project_id"),
)
