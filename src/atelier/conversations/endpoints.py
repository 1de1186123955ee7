"""``/api/v1/conversations``: a user's chats and their messages (replies come later)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from atelier.accounts.deps import CurrentUser
from atelier.conversations import service
from atelier.conversations.schemas import (
    NO_MESSAGES,
    ConversationCreate,
    ConversationDetail,
    ConversationOut,
    ConversationUpdate,
    MessageOut,
)
from atelier.core.deps import DB, Paging
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page

router = APIRouter(prefix="/conversations", tags=["conversations"])

MESSAGES_DEFAULT = 50
MESSAGES_MAX = 200


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ConversationOut,
    responses=error_responses(
        404, s404="project_not_found: no such project among those you can see"
    ),
)
async def create_conversation(
    body: ConversationCreate, response: Response, user: CurrentUser, session: DB
) -> ConversationOut:
    """Start a conversation, optionally about a project you may write to."""
    conversation = await service.create_conversation(
        session,
        user=user,
        title=body.title,
        project_id=body.project_id,
        persona=body.persona,
        system_prompt=body.system_prompt,
        meta=body.metadata,
    )
    response.headers["Location"] = f"/api/v1/conversations/{conversation.id}"
    return ConversationOut.of(conversation)


@router.get("", response_model=Page[ConversationOut])
async def list_conversations(
    user: CurrentUser,
    session: DB,
    page: Paging,
    active: Annotated[
        bool, Query(description="true: the active conversations; false: the archived ones")
    ] = True,
    project_id: Annotated[
        uuid.UUID | None, Query(description="only those about this project")
    ] = None,
) -> Page[ConversationOut]:
    """Your conversations, newest first, each with its message count and last message time."""
    rows, cursor = await service.list_conversations(
        session,
        user=user,
        active=active,
        project_id=project_id,
        cursor=page.cursor,
        limit=page.limit,
    )
    stats = await service.message_stats(session, [row.id for row in rows])
    items = [ConversationOut.of(row, stats.get(row.id, NO_MESSAGES)) for row in rows]
    return Page(items=items, next_cursor=cursor)


@router.get("/{conversation_id}", response_model=ConversationDetail)
async def get_conversation(
    conversation_id: uuid.UUID,
    user: CurrentUser,
    session: DB,
    messages_limit: Annotated[
        int, Query(ge=1, le=MESSAGES_MAX, description="how many of the newest messages")
    ] = MESSAGES_DEFAULT,
    before: Annotated[
        str | None,
        Query(max_length=200, description="messages_before of a previous answer: older ones"),
    ] = None,
) -> ConversationDetail:
    """The conversation with its newest messages, oldest first (the newest is last)."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    messages, older = await service.list_messages(
        session, conversation=conversation, before=before, limit=messages_limit
    )
    return ConversationDetail.of(
        conversation,
        await service.stats_of(session, conversation),
        messages=[MessageOut.of(message) for message in messages],
        messages_before=older,
    )


@router.patch("/{conversation_id}", response_model=ConversationOut)
async def update_conversation(
    conversation_id: uuid.UUID, body: ConversationUpdate, user: CurrentUser, session: DB
) -> ConversationOut:
    """Rename (a null title clears it), archive (``is_active`` false) or restore (true)."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    conversation = await service.update_conversation(
        session, conversation=conversation, changes=body.model_dump(exclude_unset=True)
    )
    return ConversationOut.of(conversation, await service.stats_of(session, conversation))


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_conversation(
    conversation_id: uuid.UUID, user: CurrentUser, session: DB
) -> Response:
    """Delete the conversation and all its messages, for good."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    await service.delete_conversation(session, conversation=conversation)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
