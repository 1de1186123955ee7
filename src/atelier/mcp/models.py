"""Seed 001 MCPToken: a bearer token that lets an MCP client read one project."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, CreatedMixin, IdMixin


class MCPToken(IdMixin, CreatedMixin, Base):
    __tablename__ = "mcp_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    project_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # SHA-256 of the raw token (hex); the raw token is shown once and never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the raw token, to tell tokens apart in a list.
    prefix: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(100))
    last_used_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    __table_args__ = (Index("ix_mcp_tokens_project_id", "project_id"),)
