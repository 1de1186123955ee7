"""Asking for a reply: a user's message (or a regeneration) checked and stored, and the
reply job enqueued in the same transaction.

Everything that can refuse is checked before anything is written: a reply still being
written (409), attachments that are not the user's or not read yet, the budget (402)
and the provider (409 when none can serve). A refused request leaves the conversation
as it was.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import limits
from atelier.accounts.principal import Principal
from atelier.ai.generation_preflight import allowed_provider
from atelier.ai.runtime import AIRuntime
from atelier.conversations.models import Conversation, Message, MessageRole
from atelier.conversations.service import add_message
from atelier.core.errors import Conflict, NotFound, field_error
from atelier.jobs.models import Job
from atelier.jobs.runner import JobRunner
from atelier.jobs.service import enqueue
from atelier.projects.models import Project
from atelier.uploads.models import UploadStatus
from atelier.uploads.service import load_upload

REPLY_JOB = "chat.reply"
MAX_ATTACHMENTS = 10
# What a message sent counts against the plan (accounts/plans.py); replies count their
# AI tokens and calls through their audit rows.
CHAT_MESSAGE = {"chat_messages": 1}


async def reply_job(session: AsyncSession, conversation: Conversation) -> Job | None:
    if conversation.reply_job_id is None:
        return None
    return await session.get(Job, conversation.reply_job_id)


async def _ensure_idle(session: AsyncSession, conversation: Conversation) -> None:
    if not conversation.is_active:
        raise Conflict(
            "the conversation is archived: restore it (is_active true) to write in it",
            code="conversation_archived",
        )
    job = await reply_job(session, conversation)
    if job is not None and not job.status.finished:
        raise Conflict(
            "a reply is still being written: wait for it or stop it first",
            code="reply_in_progress",
        )


async def _attachments(
    session: AsyncSession, user: Principal, upload_ids: list[uuid.UUID]
) -> list[dict[str, Any]]:
    """Each id as ``{upload_id, name}``, if it is an upload the user can read whose text
    has been extracted (or could not be: a photo without text is still attachable)."""
    if len(set(upload_ids)) != len(upload_ids):
        raise field_error("body.attachments", "the same upload is attached twice")
    found = []
    for index, upload_id in enumerate(upload_ids):
        where = f"body.attachments.{index}"
        try:
            upload = (await load_upload(session, user=user, upload_id=upload_id)).upload
        except NotFound:
            raise field_error(where, "no such upload among those you can read") from None
        if upload.status == UploadStatus.DELETED:
            raise field_error(where, "the upload was deleted")
        if not upload.status.settled:
            raise Conflict(
                f"attachment {index}: the upload is still being read; try again when "
                "its processing job has finished",
                code="upload_still_processing",
            )
        found.append({"upload_id": str(upload.id), "name": upload.original_name[:200]})
    return found


async def _check_provider(
    session: AsyncSession,
    runtime: AIRuntime,
    user: Principal,
    conversation: Conversation,
    provider_id: uuid.UUID | None,
) -> uuid.UUID | None:
    """The plan's limits (402) and a provider the user may use, as any generation checks
    them; the organization that pays (the project's), if any."""
    project = (
        await session.get(Project, conversation.project_id) if conversation.project_id else None
    )
    await allowed_provider(
        session,
        runtime=runtime,
        user_id=user.id,
        organization_id=project.organization_id if project else None,
        project_provider_id=project.ai_provider_id if project else None,
        provider_id=provider_id,
    )
    return project.organization_id if project else None


async def _enqueue(
    session: AsyncSession,
    runtime: AIRuntime,
    user: Principal,
    conversation: Conversation,
    payload: dict[str, Any],
    runner: JobRunner | None,
) -> Job:
    # Started at once by the server's runner when it has room: a person is waiting for
    # the first word (jobs.service.enqueue, start_here); else queued and the runner woken.
    job = await enqueue(
        session,
        user_id=user.id,
        kind=REPLY_JOB,
        payload={"conversation_id": str(conversation.id), **payload},
        project_id=conversation.project_id,
        queue=runtime.settings.job_queue,
        notify=runner.wake if runner is not None else None,
        start_here=runner,
    )
    conversation.reply_job_id = job.id
    await session.flush()
    return job


async def send_message(
    session: AsyncSession,
    *,
    runtime: AIRuntime,
    user: Principal,
    conversation: Conversation,
    content: str,
    attachments: list[uuid.UUID],
    provider_id: uuid.UUID | None = None,
    runner: JobRunner | None = None,
) -> tuple[Message, Job]:
    """Store the user's message and enqueue the assistant's reply to it."""
    await _ensure_idle(session, conversation)
    attached = await _attachments(session, user, attachments)
    organization_id = await _check_provider(session, runtime, user, conversation, provider_id)
    await limits.charge(
        session,
        user_id=user.id,
        organization_id=organization_id,
        amounts=CHAT_MESSAGE,
        settings=runtime.settings,
    )
    message = await add_message(
        session,
        conversation=conversation,
        role=MessageRole.USER,
        content=content,
        meta={"attachments": attached} if attached else None,
    )
    job = await _enqueue(
        session,
        runtime,
        user,
        conversation,
        {
            "message_id": str(message.id),
            "provider_id": str(provider_id) if provider_id else None,
        },
        runner,
    )
    return message, job


async def regenerate(
    session: AsyncSession,
    *,
    runtime: AIRuntime,
    user: Principal,
    conversation: Conversation,
    provider_id: uuid.UUID | None = None,
    runner: JobRunner | None = None,
) -> Job:
    """A new reply to the last user message: it replaces the last reply (whose text is
    kept in the new one's metadata), or answers a message whose reply failed."""
    await _ensure_idle(session, conversation)
    last = await session.scalar(
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.role != MessageRole.SYSTEM)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )
    if last is None:
        raise Conflict("the conversation has no message to answer", code="nothing_to_regenerate")
    await _check_provider(session, runtime, user, conversation, provider_id)
    payload: dict[str, Any] = {"provider_id": str(provider_id) if provider_id else None}
    if last.role == MessageRole.ASSISTANT:
        payload["replace_message_id"] = str(last.id)
    else:
        payload["message_id"] = str(last.id)
    return await _enqueue(session, runtime, user, conversation, payload, runner)
