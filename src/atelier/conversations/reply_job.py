"""The "chat.reply" job: the assistant's reply, streamed token by token into the job's
events, then stored as a message (or, for a regeneration, in place of the last reply).

Loading happens in one short transaction, the provider call outside any, and the reply
in one at the end. A stop (the job cancelled) keeps what was written, marked
``stopped``; a failure leaves the conversation as it was, with the user's message
waiting for a regeneration.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.ai.budgets import check_budget
from atelier.ai.free_text import TextAnswer, stream_text
from atelier.ai.generation import CallRecord, Generator
from atelier.ai.providers.base import ProviderError, Role
from atelier.ai.resolve import ResolvedProvider, resolve_provider
from atelier.ai.runtime import AIRuntime
from atelier.ai.windows import context_window
from atelier.conversations.context import ContextPlan, Turn, plan_context, reply_budget
from atelier.conversations.models import Conversation, Message, MessageRole
from atelier.conversations.prompting import load_attachments, system_prompt_for
from atelier.conversations.schemas import MessageOut
from atelier.conversations.service import add_message
from atelier.conversations.streaming import TokenStream
from atelier.conversations.titles import name_conversation
from atelier.core.crypto import redact
from atelier.core.db import session_scope
from atelier.core.errors import AtelierError
from atelier.jobs.models import Job
from atelier.jobs.runner import JobControl, JobFailed
from atelier.jobs.tasks import task
from atelier.projects.models import Project

HISTORY_MAX = 200  # turns read back; the window usually holds far fewer


@dataclass(frozen=True, slots=True)
class ReplyPlan:
    conversation_id: uuid.UUID
    question_id: uuid.UUID  # the user message answered
    replace_id: uuid.UUID | None  # the reply a regeneration replaces
    first_exchange: bool
    needs_title: bool
    question: str
    resolved: ResolvedProvider
    record: CallRecord
    context: ContextPlan
    calling: dict[str, Any]  # the "progress" event that says which model is called


@task("chat.reply")
async def run_reply_job(
    runtime: AIRuntime, job_id: uuid.UUID, control: JobControl
) -> dict[str, Any]:
    plan = await _prepare(runtime, job_id, control)
    # The "calling" event is written while the provider is already being called (its
    # commit is not on the way to the first token); the stream writes nothing before it.
    calling = asyncio.ensure_future(control.emit("progress", plan.calling))
    try:
        generator = Generator(runtime, plan.resolved, plan.record)
    except ProviderError as error:
        await calling
        raise JobFailed(error.code, redact(error.message, plan.resolved.settings.api_key)) from None
    stream = TokenStream(control, after=calling)
    stream.start()

    async def retrying(error: ProviderError, delay: float | None, message: str) -> None:
        await stream.retry({"reason": error.code, "message": message, "retry_in_seconds": delay})

    try:
        answer = await stream_text(
            generator,
            messages=plan.context.messages,
            max_tokens=plan.context.reply_tokens,
            on_text=stream.on_text,
            on_retry=retrying,
            on_finish=stream.flush,
        )
    except ProviderError as error:
        await stream.close()
        raise JobFailed(error.code, generator.clean(error.message)) from None
    except asyncio.CancelledError:
        if control.cancelled.is_set():
            # The user pressed stop: what was written stays, marked as cut short.
            await asyncio.shield(_save_stopped(runtime, control, plan, stream, generator))
        else:
            await asyncio.shield(stream.close())
        raise
    rest = await stream.close()
    message = await _save(runtime, control, plan, answer.text, _meta(plan, answer), rest)
    result: dict[str, Any] = {
        "conversation_id": str(plan.conversation_id),
        "message_id": str(message["id"]),
        "ai_generation_id": str(answer.generation_id),
    }
    if plan.needs_title and runtime.settings.chat_auto_title:
        result["title"] = await name_conversation(
            runtime, control, generator, plan.conversation_id, plan.question, answer.text
        )
    return result


def _meta(plan: ReplyPlan, answer: TextAnswer) -> dict[str, Any]:
    return {
        "model": answer.model,
        "provider": plan.resolved.kind,
        "input_tokens": answer.input_tokens,
        "output_tokens": answer.output_tokens,
        "ai_generation_id": str(answer.generation_id),
        "finish_reason": answer.finish_reason,
        "in_reply_to": str(plan.question_id),
        "context": plan.context.as_json(),
        "stopped": False,
    }


async def _save_stopped(
    runtime: AIRuntime,
    control: JobControl,
    plan: ReplyPlan,
    stream: TokenStream,
    generator: Generator,
) -> None:
    rest = await stream.close()
    text = stream.so_far
    if not text.strip():
        return  # nothing was written: nothing to keep
    meta = {
        # The provider names the model it used in its final answer, which a stopped
        # call never sent: the model asked for (what the audit row of the stop says).
        "model": plan.resolved.settings.default_model,
        "provider": plan.resolved.kind,
        "ai_generation_id": (
            str(generator.last_generation_id) if generator.last_generation_id else None
        ),
        "in_reply_to": str(plan.question_id),
        "context": plan.context.as_json(),
        "stopped": True,
    }
    await _save(runtime, control, plan, text, meta, rest)


async def _save(
    runtime: AIRuntime,
    control: JobControl,
    plan: ReplyPlan,
    text: str,
    meta: dict[str, Any],
    rest: str,
) -> dict[str, Any]:
    """The reply, its last tokens and a "message" event, in one commit."""
    async with runtime.steps, session_scope(runtime.maker) as session:
        conversation = await session.get(Conversation, plan.conversation_id)
        if conversation is None:
            raise JobFailed("conversation_not_found", "the conversation was deleted meanwhile")
        replaced = await session.get(Message, plan.replace_id) if plan.replace_id else None
        if replaced is not None and replaced.conversation_id == conversation.id:
            alternatives = list((replaced.meta or {}).get("alternatives", []))
            alternatives.append(
                {
                    "content": replaced.content,
                    "metadata": {
                        k: v for k, v in (replaced.meta or {}).items() if k != "alternatives"
                    },
                }
            )
            replaced.content = text
            replaced.meta = {**meta, "alternatives": alternatives}
            message = replaced
            await session.flush()
        else:
            message = await add_message(
                session,
                conversation=conversation,
                role=MessageRole.ASSISTANT,
                content=text,
                meta=meta,
            )
        if rest:
            control.add_event(session, "token", {"text": rest})
        out = MessageOut.of(message).model_dump(mode="json")
        control.add_event(session, "message", {"message": out})
    control.events.announce(control.job_id)
    return out


async def _prepare(runtime: AIRuntime, job_id: uuid.UUID, control: JobControl) -> ReplyPlan:
    """Everything the call needs, read in one transaction; budget and provider checked
    again (they may have changed while the job waited in the queue)."""
    async with runtime.steps, session_scope(runtime.maker) as session:
        job = await session.get(Job, job_id)
        conversation_id = _uuid((job.payload if job else {}).get("conversation_id"))
        conversation = await session.get(Conversation, conversation_id) if conversation_id else None
        if job is None or conversation is None:
            raise JobFailed("conversation_not_found", "the conversation was deleted")
        replace_id = _uuid(job.payload.get("replace_message_id"))
        question = await _question(session, conversation, job.payload, replace_id)
        history = await _history(session, conversation, question)
        project = (
            await session.get(Project, conversation.project_id) if conversation.project_id else None
        )
        if project is not None and project.deleted_at is not None:
            project = None
        try:
            if not control.fresh:
                # Checked again after a wait in the queue; a reply the request started
                # itself was checked in the transaction that claimed it, just now.
                await check_budget(
                    session,
                    settings=runtime.settings,
                    user_id=job.user_id,
                    organization_id=project.organization_id if project else None,
                )
            resolved = await resolve_provider(
                session,
                user_id=job.user_id,
                settings=runtime.settings,
                cipher=runtime.cipher,
                override_id=_uuid(job.payload.get("provider_id")),
                project_provider_id=project.ai_provider_id if project else None,
            )
        except AtelierError as error:
            raise JobFailed(error.code, str(error.detail)) from None
        attachments = await load_attachments(session, [*history, question])
        system = await system_prompt_for(session, conversation, project, job.user_id)
        turns = [_turn(message, attachments) for message in history]
        window = context_window(resolved, cap=runtime.settings.chat_context_window)
        context = plan_context(
            system=system,
            history=turns,
            new=_turn(question, attachments),
            window=window,
            reply_tokens=reply_budget(window, runtime.settings.chat_reply_max_tokens),
        )
        record = CallRecord(
            user_id=job.user_id,
            organization_id=project.organization_id if project else None,
            project_id=project.id if project else None,
            artifact_id=None,
            stage_id=None,
            job_id=job.id,
            prompt_template=f"chat.reply:{conversation.persona or 'assistant'}",
            conversation_id=conversation.id,
        )
    return ReplyPlan(
        conversation_id=conversation.id,
        question_id=question.id,
        replace_id=replace_id,
        first_exchange=not history,
        needs_title=not history and conversation.title is None,
        question=question.content,
        resolved=resolved,
        record=record,
        context=context,
        calling={
            "step": "calling",
            "provider": resolved.kind,
            "model": resolved.settings.default_model,
            "context": context.as_json(),
        },
    )


async def _question(
    session: AsyncSession,
    conversation: Conversation,
    payload: dict[str, Any],
    replace_id: uuid.UUID | None,
) -> Message:
    """The user message to answer: the payload's, or the last one before the reply that
    a regeneration replaces."""
    if replace_id is None:
        question = await session.get(Message, _uuid(payload.get("message_id")) or uuid.UUID(int=0))
    else:
        replaced = await session.get(Message, replace_id)
        if replaced is None or replaced.conversation_id != conversation.id:
            raise JobFailed("message_not_found", "the reply to regenerate was deleted")
        question = await session.scalar(
            select(Message)
            .where(
                Message.conversation_id == conversation.id,
                Message.role == MessageRole.USER,
                _before(replaced),
            )
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        )
    if question is None or question.conversation_id != conversation.id:
        raise JobFailed("message_not_found", "the message to answer is gone")
    return question


async def _history(
    session: AsyncSession, conversation: Conversation, question: Message
) -> list[Message]:
    """The user and assistant messages before ``question``, oldest first."""
    rows = await session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.role != MessageRole.SYSTEM,
            _before(question),
        )
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(HISTORY_MAX)
    )
    return list(reversed(rows.all()))


def _before(message: Message) -> Any:
    return or_(
        Message.created_at < message.created_at,
        and_(Message.created_at == message.created_at, Message.id < message.id),
    )


def _turn(message: Message, attachments: dict[str, Any]) -> Turn:
    role: Role = "assistant" if message.role == MessageRole.ASSISTANT else "user"
    ids = [item.get("upload_id") for item in (message.meta or {}).get("attachments", [])]
    return Turn(
        role=role,
        content=message.content,
        attachments=tuple(attachments[i] for i in ids if i in attachments),
    )


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
