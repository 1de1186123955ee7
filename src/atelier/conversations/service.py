"""Conversations: a user's own, nobody else's (not even their organization's)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.conversations.models import Conversation, Message, MessageRole
from atelier.conversations.personas import all_personas
from atelier.conversations.schemas import NO_MESSAGES, MessageStats
from atelier.core.db import utcnow
from atelier.core.errors import InvalidInput, NotFound, field_error
from atelier.core.pagination import next_cursor, paginate_query
from atelier.projects.access import Need, load_project


async def create_conversation(
    session: AsyncSession,
    *,
    user: Principal,
    title: str | None = None,
    project_id: uuid.UUID | None = None,
    persona: str | None = None,
    system_prompt: str | None = None,
    meta: dict[str, Any] | None = None,
) -> Conversation:
    """A new conversation; a project it is about must be one the user may write to
    (404 for a project they cannot see, 403 for one they may only read)."""
    if persona is not None and persona not in all_personas():
        raise field_error(
            "body.persona", f"no persona {persona!r}; GET /api/v1/conversations/personas lists them"
        )
    if project_id is not None:
        await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    conversation = Conversation(
        user_id=user.id,
        title=title,
        project_id=project_id,
        persona=persona,
        system_prompt=system_prompt,
        meta=meta,
        is_active=True,
    )
    session.add(conversation)
    await session.flush()
    return conversation


async def load_conversation(
    session: AsyncSession, *, user: Principal, conversation_id: uuid.UUID
) -> Conversation:
    """The user's own conversation; anyone else's does not exist for them (404)."""
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.user_id != user.id:
        raise NotFound("no such conversation", code="conversation_not_found")
    return conversation


async def list_conversations(
    session: AsyncSession,
    *,
    user: Principal,
    active: bool,
    cursor: str | None,
    limit: int,
    project_id: uuid.UUID | None = None,
) -> tuple[list[Conversation], str | None]:
    """The user's conversations, newest first, active or archived ones."""
    query = select(Conversation).where(
        Conversation.user_id == user.id, Conversation.is_active == active
    )
    if project_id is not None:
        query = query.where(Conversation.project_id == project_id)
    query = paginate_query(
        query,
        created_col=Conversation.created_at,
        id_col=Conversation.id,
        cursor=cursor,
        limit=limit,
    )
    rows = list((await session.scalars(query)).all())
    return rows[:limit], next_cursor(rows, limit)


async def message_stats(
    session: AsyncSession, conversation_ids: list[uuid.UUID]
) -> dict[uuid.UUID, MessageStats]:
    """Count and last message time of each conversation, in one grouped query (the
    (conversation_id, created_at) index answers it); conversations without messages
    are missing from the result."""
    if not conversation_ids:
        return {}
    rows = await session.execute(
        select(Message.conversation_id, func.count(), func.max(Message.created_at))
        .where(Message.conversation_id.in_(conversation_ids))
        .group_by(Message.conversation_id)
    )
    return {conversation_id: (count, last) for conversation_id, count, last in rows.all()}


async def stats_of(session: AsyncSession, conversation: Conversation) -> MessageStats:
    return (await message_stats(session, [conversation.id])).get(conversation.id, NO_MESSAGES)


async def list_messages(
    session: AsyncSession, *, conversation: Conversation, before: str | None, limit: int
) -> tuple[list[Message], str | None]:
    """The newest ``limit`` messages older than the ``before`` cursor, oldest first (as
    a chat shows them), and the cursor of the page before them, if any."""
    query = select(Message).where(Message.conversation_id == conversation.id)
    try:
        query = paginate_query(
            query, created_col=Message.created_at, id_col=Message.id, cursor=before, limit=limit
        )
    except InvalidInput:
        # The pagination helper names its own parameter, ``cursor``.
        raise field_error("query.before", "not a cursor returned by this API") from None
    rows = list((await session.scalars(query)).all())
    page = rows[:limit]
    page.reverse()
    return page, next_cursor(rows, limit)


async def update_conversation(
    session: AsyncSession, *, conversation: Conversation, changes: dict[str, Any]
) -> Conversation:
    """Rename (a null title clears it), archive (is_active false) or restore."""
    if "is_active" in changes and changes["is_active"] is None:
        raise field_error("body.is_active", "may not be null: true or false")
    for field in ("title", "is_active"):
        if field in changes:
            setattr(conversation, field, changes[field])
    await session.flush()
    return conversation


async def delete_conversation(session: AsyncSession, *, conversation: Conversation) -> None:
    """Gone with its messages (the foreign key cascades)."""
    await session.delete(conversation)
    await session.flush()


async def add_message(
    session: AsyncSession,
    *,
    conversation: Conversation,
    role: MessageRole,
    content: str,
    meta: dict[str, Any] | None = None,
) -> Message:
    """Append a message; the conversation's ``updated_at`` becomes the message's time,
    so that it says when the conversation was last active."""
    now = utcnow()
    message = Message(
        conversation_id=conversation.id, role=role, content=content, meta=meta, created_at=now
    )
    session.add(message)
    conversation.updated_at = now
    await session.flush()
    return message
