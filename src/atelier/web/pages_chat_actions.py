"""The forms of a conversation's page, for browsers without the page's script (and for
its Stop, Regenerate, Rename, Archive and Delete buttons, which stay forms): each does
what its API endpoint does, then redirects back with a ``?msg=`` code (PRG).

A message sent here is stored and its reply enqueued exactly as ``POST
/api/v1/conversations/{id}/messages`` does; the reply shows when the page is reloaded.
Refusals (budget, no provider, a reply still being written...) come back as notices in
the words of :mod:`atelier.web.chat_views`.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from atelier.ai.deps import Runtime
from atelier.conversations import replies, service
from atelier.conversations.schemas import ConversationUpdate, MessageCreate
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, Conflict
from atelier.jobs import service as jobs_service
from atelier.jobs.deps import Events, Runner
from atelier.web.chat_views import CHAT_FAILURES
from atelier.web.flash import FormText, Notices, back
from atelier.web.session import WebUser, csrf_ok
from atelier.web.tool_form import chosen_provider

router = APIRouter(include_in_schema=False)

# ?msg= codes: the page's own, then every refusal code in the chat's words.
NOTICES: Notices = {
    "expired": ("error", "The form expired. Please try again."),
    "empty": ("error", "Write a message first."),
    "too-long": ("error", "The message is too long: at most 32,000 characters."),
    "unstorable": ("error", "The message has characters that cannot be stored (e.g. NUL)."),
    "stopping": ("ok", "Stopping: what was written so far is kept."),
    "renamed": ("ok", "Conversation renamed."),
    "title-invalid": ("error", "A title is at most 200 characters."),
    "archived": ("ok", "Conversation archived. Restore it to write in it again."),
    "restored": ("ok", "Conversation restored."),
    "deleted": ("ok", "Conversation deleted."),
    "no-project": ("error", "That project is gone, or you may not write to it."),
    "no-persona": ("error", "That persona is no longer installed: choose another."),
    **{code: ("error", words["text"]) for code, words in CHAT_FAILURES.items()},
    "ai_provider_not_found": (
        "error",
        "You cannot use that AI provider (it may have been removed). Choose another.",
    ),
    "refused": ("error", "It did not work. Try again in a moment."),
}


def _page(conversation_id: uuid.UUID) -> str:
    return f"/chat/{conversation_id}"


def _refusal(error: AtelierError) -> str:
    """The notice code of a refusal; its words are ours, never the exception's text."""
    return error.code if error.code in NOTICES else "refused"


@router.post("/chat/{conversation_id}/messages")
async def send(
    request: Request,
    conversation_id: uuid.UUID,
    user: WebUser,
    session: DB,
    runtime: Runtime,
    runner: Runner,
    csrf_token: FormText = "",
    content: FormText = "",
    provider_id: FormText = "",
) -> Response:
    """The message form without the script; the page shows the reply being written.
    ``provider_id`` (empty: the project's or the user's default) answers this message."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    page = _page(conversation.id)
    if not csrf_ok(request, csrf_token):
        return back(page, "expired")
    try:
        body = MessageCreate(content=content)  # the API's rules: stripped, 1-32,000
    except ValidationError as invalid:
        kinds = {error["type"] for error in invalid.errors()}
        if "string_too_long" in kinds:
            return back(page, "too-long")
        return back(page, "empty" if "string_too_short" in kinds else "unstorable")
    try:
        await replies.send_message(
            session,
            runtime=runtime,
            user=user,
            conversation=conversation,
            content=body.content,
            provider_id=chosen_provider(provider_id),
            attachments=[],
            runner=runner,
        )
    except AtelierError as refused:
        return back(page, _refusal(refused))
    return RedirectResponse(page, status_code=303)


@router.post("/chat/{conversation_id}/regenerate")
async def regenerate(
    request: Request,
    conversation_id: uuid.UUID,
    user: WebUser,
    session: DB,
    runtime: Runtime,
    runner: Runner,
    csrf_token: FormText = "",
) -> Response:
    """A new reply to the last message (replacing the last reply), or a retry."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    page = _page(conversation.id)
    if not csrf_ok(request, csrf_token):
        return back(page, "expired")
    try:
        await replies.regenerate(
            session, runtime=runtime, user=user, conversation=conversation, runner=runner
        )
    except AtelierError as refused:
        return back(page, _refusal(refused))
    return RedirectResponse(page, status_code=303)


@router.post("/chat/{conversation_id}/stop")
async def stop(
    request: Request,
    conversation_id: uuid.UUID,
    user: WebUser,
    session: DB,
    runner: Runner,
    events: Events,
    csrf_token: FormText = "",
) -> Response:
    """As ``POST …/stop``: what the reply wrote so far is kept, marked stopped."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    page = _page(conversation.id)
    if not csrf_ok(request, csrf_token):
        return back(page, "expired")
    job = await replies.reply_job(session, conversation)
    if job is None or job.status.finished:
        return back(page, "no_reply_running")
    try:
        await jobs_service.cancel(session, job=job, events=events, runner=runner)
    except Conflict:
        return back(page, "no_reply_running")  # it finished between the page and the click
    return back(page, "stopping")


@router.post("/chat/{conversation_id}/rename")
async def rename(
    request: Request,
    conversation_id: uuid.UUID,
    user: WebUser,
    session: DB,
    csrf_token: FormText = "",
    title: FormText = "",
) -> Response:
    """An empty title clears it (the list then says "Untitled")."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    page = _page(conversation.id)
    if not csrf_ok(request, csrf_token):
        return back(page, "expired")
    try:
        changes = ConversationUpdate(title=title.strip() or None)
    except ValidationError:
        return back(page, "title-invalid")
    await service.update_conversation(
        session, conversation=conversation, changes=changes.model_dump(include={"title"})
    )
    return back(page, "renamed")


@router.post("/chat/{conversation_id}/archive")
async def archive(
    request: Request,
    conversation_id: uuid.UUID,
    user: WebUser,
    session: DB,
    csrf_token: FormText = "",
    active: FormText = "0",
) -> Response:
    """``active=0`` archives, ``active=1`` restores."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    page = _page(conversation.id)
    if not csrf_ok(request, csrf_token):
        return back(page, "expired")
    restore = active == "1"
    await service.update_conversation(
        session, conversation=conversation, changes={"is_active": restore}
    )
    return back(page, "restored" if restore else "archived")


@router.post("/chat/{conversation_id}/delete")
async def delete(
    request: Request,
    conversation_id: uuid.UUID,
    user: WebUser,
    session: DB,
    csrf_token: FormText = "",
) -> Response:
    """For good, with its messages; then the list."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    if not csrf_ok(request, csrf_token):
        return back(_page(conversation.id), "expired")
    await service.delete_conversation(session, conversation=conversation)
    return back("/chat", "deleted")
