"""The chat pages: your conversations (``/chat``, archived ones at ``?archived=1``), the
form that starts one, a conversation (``/chat/{id}``) and one message as an HTML
fragment (``/chat/{id}/messages/{message_id}``).

Conversations are read through the conversations service with the owner checked as the
API checks it: anyone else's is the 404 page. The page's script (static/js/chat.js)
sends messages to the JSON API and follows the reply's events; once a reply is stored it
asks for the fragment, so that the server's safe Markdown renders every message. The
forms the page offers without the script are in :mod:`atelier.web.pages_chat_actions`.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import Membership, OrgRole
from atelier.accounts.principal import Principal
from atelier.conversations import replies, service
from atelier.conversations.models import Conversation, Message
from atelier.conversations.personas import DEFAULT_PERSONA, all_personas, persona_for
from atelier.conversations.schemas import MESSAGE_MAX
from atelier.core.deps import DB
from atelier.core.errors import AtelierError, NotFound
from atelier.jobs.models import Job, JobStatus
from atelier.projects.access import access_level
from atelier.projects.models import Project
from atelier.web import chat_views, pages_chat_actions
from atelier.web import upload_views as uploads
from atelier.web.cursors import cursor_or_none
from atelier.web.flash import FormText, back, notice_of
from atelier.web.pages_projects import ago
from atelier.web.paging import page_url
from atelier.web.session import WebUser, csrf_ok
from atelier.web.templating import render
from atelier.web.tool_form import usable_providers

router = APIRouter(include_in_schema=False)
# The forms (send, stop, regenerate, rename, archive, delete): mounted with these pages.
router.include_router(pages_chat_actions.router)

CHATS_PAGE = 20
MESSAGES_PAGE = 50
PROJECT_CHOICES = 200


# ------------------------------------------------------------------ the list
@router.get("/chat", response_class=HTMLResponse)
async def chats(
    request: Request,
    user: WebUser,
    session: DB,
    archived: str = "",
    cursor: str | None = None,
    msg: str | None = None,
) -> Response:
    # Query values are read leniently: an edited address shows a page, never an error.
    showing_archived = archived == "1"
    flag = "1" if showing_archived else None
    cursor = cursor_or_none(cursor)
    rows, more = await service.list_conversations(
        session, user=user, active=not showing_archived, cursor=cursor, limit=CHATS_PAGE
    )
    stats = await service.message_stats(session, [row.id for row in rows])
    return render(
        request,
        "chat/list.html",
        {
            "nav": "chat",
            "conversations": rows,
            "stats": stats,
            "archived": showing_archived,
            "project_names": await _project_names(session, user, rows),
            "projects": [] if showing_archived else await _writable_projects(session, user),
            "personas": list(all_personas().values()),
            "default_persona": DEFAULT_PERSONA.key,
            "first_url": page_url("/chat", archived=flag) if cursor else None,
            "next_url": page_url("/chat", archived=flag, cursor=more) if more else None,
            "ago": ago,
            "flash": notice_of(pages_chat_actions.NOTICES, msg),
        },
    )


async def _writable_projects(session: AsyncSession, user: Principal) -> list[Project]:
    """The projects a conversation may be about: those the user may write to (their own,
    and their organizations' unless they only view them), by name."""
    writer_of = select(Membership.organization_id).where(
        Membership.user_id == user.id, Membership.role != OrgRole.VIEWER
    )
    rows = await session.scalars(
        select(Project)
        .where(
            Project.deleted_at.is_(None),
            or_(Project.owner_id == user.id, Project.organization_id.in_(writer_of)),
        )
        .order_by(Project.created_at.desc())
        .limit(PROJECT_CHOICES)
    )
    return sorted(rows.all(), key=lambda row: row.name.casefold())


async def _project_names(
    session: AsyncSession, user: Principal, rows: list[Conversation]
) -> dict[uuid.UUID, str]:
    """Names of the projects the listed conversations are about, when still readable."""
    ids = {row.project_id for row in rows if row.project_id is not None}
    names = {}
    for project_id in ids:
        project = await _readable_project(session, user, project_id)
        if project is not None:
            names[project_id] = project.name
    return names


async def _readable_project(
    session: AsyncSession, user: Principal, project_id: uuid.UUID | None
) -> Project | None:
    if project_id is None:
        return None
    project = await session.get(Project, project_id)
    if project is None or project.deleted_at is not None:
        return None
    level = await access_level(
        session, user, owner_id=project.owner_id, organization_id=project.organization_id
    )
    return project if level is not None else None


@router.post("/chat")
async def new_chat(
    request: Request,
    user: WebUser,
    session: DB,
    csrf_token: FormText = "",
    project_id: FormText = "",
    persona: FormText = "",
) -> Response:
    """As ``POST /api/v1/conversations``; then the new conversation's page."""
    if not csrf_ok(request, csrf_token):
        return back("/chat", "expired")
    try:
        project = uuid.UUID(project_id) if project_id.strip() else None
    except ValueError:
        return back("/chat", "no-project")
    try:
        conversation = await service.create_conversation(
            session, user=user, project_id=project, persona=persona.strip() or None
        )
    except AtelierError as refused:
        # A project deleted or unshared since the form was shown, or a persona whose
        # pack was removed: said on the list, not as an error page.
        return back("/chat", "no-persona" if refused.status_code == 422 else "no-project")
    return RedirectResponse(f"/chat/{conversation.id}", status_code=303)


# ------------------------------------------------------------------ one conversation
@router.get("/chat/{conversation_id}", response_class=HTMLResponse)
async def chat_page(
    request: Request,
    conversation_id: uuid.UUID,
    user: WebUser,
    session: DB,
    before: str | None = None,
    msg: str | None = None,
) -> Response:
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    before = cursor_or_none(before)
    messages, older = await service.list_messages(
        session, conversation=conversation, before=before, limit=MESSAGES_PAGE
    )
    job = await replies.reply_job(session, conversation)
    running = job is not None and not job.status.finished
    views = await chat_views.views_of(session, user, messages)
    path = f"/chat/{conversation.id}"
    settings = request.app.state.settings
    config = {
        "api": f"/api/v1/conversations/{conversation.id}",
        "page": path,
        "running": running and before is None,
        "replacing": _replacing(job) if running else None,
        "failures": chat_views.FAILURE_WORDS,
        "uploads": uploads.zone_config(settings, None),
    }
    return render(
        request,
        "chat/conversation.html",
        {
            "nav": "chat",
            "conversation": conversation,
            "title": conversation.title or "Untitled",
            "persona": persona_for(conversation.persona),
            "project": await _readable_project(session, user, conversation.project_id),
            "messages": views,
            # Regenerate is offered on the newest reply, when it is the newest message.
            "last_reply": _last_reply(views) if before is None and not running else None,
            "running": running,
            "failure": _failure(job, views) if before is None else None,
            "older_url": page_url(path, before=older) if older else None,
            "reading_older": before is not None,
            "config": config,
            "message_max": MESSAGE_MAX,
            "accepted": uploads.accepted_names(settings),
            "max_size": uploads.max_size(settings),
            # Offered only when there is a choice: more than the default to pick from.
            "providers": await usable_providers(session, user),
            "flash": notice_of(pages_chat_actions.NOTICES, msg),
        },
    )


def _last_reply(views: list[chat_views.MessageView]) -> uuid.UUID | None:
    if views and views[-1].role == "assistant":
        return views[-1].id
    return None


def _replacing(job: Job | None) -> str | None:
    """The reply a running regeneration will replace (the page hides it meanwhile)."""
    value = (job.payload or {}).get("replace_message_id") if job is not None else None
    return str(value) if value else None


def _failure(job: Job | None, views: list[chat_views.MessageView]) -> dict[str, Any] | None:
    """Why the last reply was not written, if it was not: its job failed, or was stopped
    before it had any text (a stop that kept text is a stored reply, marked stopped)."""
    if job is None or job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        return None
    if job.status == JobStatus.CANCELLED:
        unanswered = bool(views) and views[-1].role == "user"
        return chat_views.chat_failure("cancelled") if unanswered else None
    return chat_views.chat_failure(job.error_code, job.error_message)


@router.get("/chat/{conversation_id}/messages/{message_id}", response_class=HTMLResponse)
async def message_fragment(
    request: Request,
    conversation_id: uuid.UUID,
    message_id: uuid.UUID,
    user: WebUser,
    session: DB,
    last: str = "",
) -> Response:
    """One message as the page shows it, for the script that adds a stored message (or a
    finished reply) to the page. ``?last=1``: the newest reply, offered for regeneration."""
    conversation = await service.load_conversation(
        session, user=user, conversation_id=conversation_id
    )
    message = await session.get(Message, message_id)
    if message is None or message.conversation_id != conversation.id:
        raise NotFound("no such message", code="message_not_found")
    (view,) = await chat_views.views_of(session, user, [message])
    return render(
        request,
        "chat/_message.html",
        {
            "m": view,
            "conversation": conversation,
            "last_reply": view.id if last == "1" and view.role == "assistant" else None,
        },
    )
