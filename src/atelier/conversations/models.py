"""A conversation (seed 002 ``conversations``) and its messages (``messages``)."""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, CreatedMixin, IdMixin, TimestampMixin, str_enum


class MessageRole(enum.StrEnum):
    USER = "USER"
    ASSISTANT = "ASSISTANT"
    SYSTEM = "SYSTEM"  # notices from the platform, not the model's system prompt


class Conversation(IdMixin, TimestampMixin, Base):
    """A chat owned by one user, optionally about one of their projects. ``updated_at``
    moves with every new message, so it says when the conversation was last active."""

    __tablename__ = "conversations"

    title: Mapped[str | None] = mapped_column(String(200))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The project it is about; deleting the project keeps the conversation.
    project_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL")
    )
    # A persona key a pack declares (PackSpec personas); not a foreign key, since packs
    # come and go without migrations.
    persona: Mapped[str | None] = mapped_column(String(64))
    # The user's own instructions for the replies, added to the persona's.
    system_prompt: Mapped[str | None] = mapped_column(Text)
    # False: archived (hidden from the default list, kept with its messages).
    is_active: Mapped[bool] = mapped_column(default=True)
    # ``metadata`` is taken by SQLAlchemy's declarative base, hence the attribute name.
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    # The job writing (or that last wrote) the assistant's reply: its events are the
    # conversation's stream, and a new message waits until it has finished.
    reply_job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="SET NULL")
    )

    __table_args__ = (
        Index("ix_conversations_user_id", "user_id"),
        Index("ix_conversations_user_created", "user_id", "created_at"),
        # The project filter, and the SET NULL a project's deletion runs.
        Index("ix_conversations_project_id", "project_id"),
    )


class Message(IdMixin, CreatedMixin, Base):
    """One message. Only a regenerated reply changes, in place (the text it replaced
    goes to ``metadata.alternatives``), so there is no ``updated_at``."""

    __tablename__ = "messages"

    conversation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE")
    )
    role: Mapped[MessageRole] = mapped_column(str_enum(MessageRole, "message_role"))
    content: Mapped[str] = mapped_column(Text)
    # Tokens, model, the upload ids quoted, ...: whatever the reply job records.
    meta: Mapped[dict[str, Any] | None] = mapped_column("metadata")

    __table_args__ = (
        # Paging a conversation's messages, and its count and last message time.
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
    )
