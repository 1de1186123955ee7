"""``/api/v1/conversations``: a user's chats, their messages, and the assistant's replies
(jobs whose events stream the text as it is written)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.sse import EventSourceResponse

from atelier.accounts.deps import CurrentUser
from atelier.ai.deps import Runtime
from atelier.conversations import replies, service
from atelier.conversations.models import Conversation
from atelier.conversations.personas import all_personas
from atelier.conversations.schemas import (
    NO_MESSAGES,
    ConversationCreate,
    ConversationDetail,
    ConversationOut,
    ConversationUpdate,
    MessageCreate,
    MessageOut,
    MessageSent,
    PersonaList,
    PersonaOut,
    RegenerateRequest,
    ReplyStarted,
)
from atelier.core.deps import DB, Paging
from atelier.core.errors import Conflict, NotFound
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.jobs import service as jobs_service
from atelier.jobs.deps import Events, Runner
from atelier.jobs.schemas import job_out
from atelier.jobs.sse import EVENT_SCHEMA, event_id_of, stream_job_events

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


@router.get("/personas", response_model=PersonaList)
async def list_personas(user: CurrentUser) -> PersonaList:
    """The voices a conversation may take (``persona`` when you create one): the
    engine's ``assistant`` and those the installed packs declare."""
    return PersonaList(items=[PersonaOut.of(p) for p in all_personas().values()])


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
    job = await replies.reply_job(session, conversation)
    return ConversationDetail.of(
        conversation,
        await service.stats_of(session, conversation),
        messages=[MessageOut.of(message) for message in messages],
        messages_before=older,
        reply_job=job_out(job) if job is not None else None,
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


# ------------------------------------------------------------------ replies
@router.post(
    "/{conversation_id}/messages",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=MessageSent,
    responses=error_responses(402, 409),
)
async def send_message(
    conversation_id: uuid.UUID,
    body: MessageCreate,
    user: CurrentUser,
    session: DB,
    runtime: Runtime,
    runner: Runner,
) -> MessageSent:
    """Store your message and start the assistant's reply; follow it at ``events_url``.
    Refused before anything is stored when a reply is still being written (409), the
    budget is used up (402) or no AI provider can serve (409)."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    message, job = await replies.send_message(
        session,
        runtime=runtime,
        user=user,
        conversation=conversation,
        content=body.content,
        attachments=body.attachments,
        provider_id=body.provider_id,
        runner=runner,
    )
    return MessageSent(
        message=MessageOut.of(message), reply_job=job_out(job), events_url=_events_url(conversation)
    )


@router.post(
    "/{conversation_id}/regenerate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReplyStarted,
    responses=error_responses(402, 409),
)
async def regenerate(
    conversation_id: uuid.UUID,
    user: CurrentUser,
    session: DB,
    runtime: Runtime,
    runner: Runner,
    body: RegenerateRequest | None = None,
) -> ReplyStarted:
    """A new reply to your last message. It replaces the last reply, whose text is kept
    in the new reply's ``metadata.alternatives``."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    job = await replies.regenerate(
        session,
        runtime=runtime,
        user=user,
        conversation=conversation,
        provider_id=body.provider_id if body else None,
        runner=runner,
    )
    return ReplyStarted(reply_job=job_out(job), events_url=_events_url(conversation))


@router.post(
    "/{conversation_id}/stop",
    response_model=ReplyStarted,
    responses=error_responses(409),
)
async def stop_reply(
    conversation_id: uuid.UUID, user: CurrentUser, session: DB, runner: Runner, events: Events
) -> ReplyStarted:
    """Stop the reply being written: what it wrote so far is kept, marked ``stopped``.
    409 ``no_reply_running`` when none is."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    job = await replies.reply_job(session, conversation)
    if job is None or job.status.finished:
        raise Conflict("no reply is being written", code="no_reply_running")
    job = await jobs_service.cancel(session, job=job, events=events, runner=runner)
    return ReplyStarted(reply_job=job_out(job), events_url=_events_url(conversation))


@router.get(
    "/{conversation_id}/events",
    response_class=Response,
    responses={
        200: {
            "description": "an SSE stream of the reply: progress, token (text as it comes), "
            "attempt_failed, message (the stored reply), title, then succeeded, failed or "
            "cancelled",
            "content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
        },
        **error_responses(404),
    },
)
async def reply_events(
    conversation_id: uuid.UUID,
    user: CurrentUser,
    session: DB,
    events: Events,
    last_event_id: Annotated[str | None, Header()] = None,
    after: Annotated[int | None, Query(ge=0, description="resume after this event id")] = None,
) -> Response:
    """Server-Sent Events of the current (or last) reply; resumable with Last-Event-ID.
    404 ``no_reply`` when the conversation has never had one."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    job = await replies.reply_job(session, conversation)
    if job is None:
        raise NotFound("the conversation has no reply to follow", code="no_reply")
    start = after if after is not None else event_id_of(last_event_id)
    return EventSourceResponse(stream_job_events(events, job.id, job.status, start))


def _events_url(conversation: Conversation) -> str:
    return f"/api/v1/conversations/{conversation.id}/events"
