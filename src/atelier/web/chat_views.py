"""How the chat pages show a conversation: each message as safe HTML, under a reply its
model and cost, what its context left out, and refusals and failures in plain words.

Every message, the one a page renders and the one its script asks for when a streamed
reply is stored (``/chat/{id}/messages/{message_id}``), goes through :func:`views_of`:
one renderer, the shared Markdown one, which shows raw HTML as text.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai.models import AIGeneration
from atelier.conversations.models import Message, MessageRole
from atelier.core.markdown_html import render_markdown
from atelier.web.failure_messages import FAILURES, PROVIDER_HELP, failure

# The chat's own words for codes the generation pages word differently, or never see.
CHAT_FAILURES: dict[str, dict[str, Any]] = {
    "budget_exceeded": {
        "text": "A limit of your plan is reached (AI budget or chat messages), so no reply "
        "can be written. The Usage page shows which one and when it starts again; an "
        "administrator can give you a larger plan."
    },
    "no_ai_provider": {"text": PROVIDER_HELP, "settings": True},
    "reply_in_progress": {
        "text": "A reply is still being written: wait for it, or stop it, then send again."
    },
    "conversation_archived": {"text": "This conversation is archived: restore it to write in it."},
    "upload_still_processing": {
        "text": "An attached file is still being read. Send again once it says it is ready."
    },
    "nothing_to_regenerate": {"text": "There is no message to answer yet: write one first."},
    "no_reply_running": {"text": "No reply is being written any more."},
    "context_length_exceeded": {
        "text": "The conversation is too long for this model. Start a new conversation, or "
        "use a model with a larger context in Settings → AI providers.",
        "settings": True,
    },
    "message_not_found": {"text": "The message to answer was deleted meanwhile."},
    "conversation_not_found": {"text": "This conversation was deleted meanwhile."},
    "cancelled": {"text": "Stopped before the reply had any text."},
    "validation_error": {"text": "The message could not be sent as it is: check it and retry."},
}
# Handed to chat.js, so that a failure it learns of over the API reads as the page's.
FAILURE_WORDS: dict[str, dict[str, Any]] = {**FAILURES, **CHAT_FAILURES}


def chat_failure(code: str | None, message: str | None = None) -> dict[str, Any]:
    """What to show for a failed reply or a refused message."""
    known = CHAT_FAILURES.get(code or "")
    return {"code": code, **known} if known is not None else failure(code, message)


@dataclass(slots=True)
class MessageView:
    id: uuid.UUID
    role: str  # "user", "assistant" or "system"
    html: Markup
    created_at: dt.datetime
    stopped: bool = False
    facts: list[str] = field(default_factory=list)  # model, cost
    notices: list[str] = field(default_factory=list)  # what the context left out
    attachments: list[str] = field(default_factory=list)  # names of attached files


def cost_words(cost: Decimal | None, provider: str | None) -> str | None:
    """A reply's estimated cost as people read it. The local model costs nothing; a
    self-hosted or unpriced model is recorded at 0, which is not the same as free."""
    if provider == "local":
        return "local, no cost"
    if cost is None:
        return None  # no audit row to read it from (e.g. a reply stopped at once)
    if cost <= 0:
        return "no cost recorded"
    if cost < Decimal("0.0001"):
        return "< $0.0001"
    return f"${cost:.4f}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def context_notices(meta: dict[str, Any]) -> list[str]:
    """What ``metadata.context`` says was left out of the prompt, in words."""
    context = meta.get("context")
    if not isinstance(context, dict) or not context.get("trimmed"):
        return []
    notes = []
    dropped = context.get("dropped_messages")
    if isinstance(dropped, int) and not isinstance(dropped, bool) and dropped > 0:
        verb = "was" if dropped == 1 else "were"
        notes.append(
            f"{_count(dropped, 'earlier message', 'earlier messages')} {verb} left out to "
            "fit the model's window."
        )
    if context.get("message_cut"):
        notes.append("The message was cut to fit the model's window: the reply read its start.")
    for item in context.get("attachments") or []:
        if not isinstance(item, dict) or not item.get("cut"):
            continue
        name = str(item.get("name") or "a file")
        number = item.get("number")
        label = f"Attachment {number} ({name})" if isinstance(number, int) else name
        notes.append(f"{label} was cut to fit the model's window: the reply read only its start.")
    return notes


async def _costs(
    session: AsyncSession, user: Principal, messages: list[Message]
) -> dict[str, Decimal]:
    """The estimated cost of each reply's AI call, by generation id, in one query."""
    ids = set()
    for message in messages:
        raw = (message.meta or {}).get("ai_generation_id")
        try:
            ids.add(uuid.UUID(str(raw)))
        except ValueError:
            continue
    if not ids:
        return {}
    rows = await session.execute(
        select(AIGeneration.id, AIGeneration.estimated_cost).where(
            AIGeneration.id.in_(ids), AIGeneration.user_id == user.id
        )
    )
    return {str(gid): cost for gid, cost in rows.all()}


def _view(message: Message, costs: dict[str, Decimal]) -> MessageView:
    meta = message.meta or {}
    view = MessageView(
        id=message.id,
        role=message.role.value.lower(),
        # Safe to embed: the renderer escapes every piece of text, raw HTML included.
        html=Markup(render_markdown(message.content)),
        created_at=message.created_at,
    )
    if message.role == MessageRole.USER:
        view.attachments = [
            str(item.get("name") or "file")
            for item in meta.get("attachments") or []
            if isinstance(item, dict)
        ]
    if message.role != MessageRole.ASSISTANT:
        return view
    view.stopped = meta.get("stopped") is True
    model = meta.get("model")
    if isinstance(model, str) and model:
        view.facts.append(model)
    provider = meta.get("provider")
    cost = costs.get(str(meta.get("ai_generation_id")))
    words = cost_words(cost, provider if isinstance(provider, str) else None)
    if words:
        view.facts.append(words)
    alternatives = meta.get("alternatives")
    if isinstance(alternatives, list) and alternatives:
        earlier = _count(len(alternatives), "earlier answer", "earlier answers")
        view.facts.append(f"regenerated ({earlier})")
    view.notices = context_notices(meta)
    return view


async def views_of(
    session: AsyncSession, user: Principal, messages: list[Message]
) -> list[MessageView]:
    costs = await _costs(session, user, messages)
    return [_view(message, costs) for message in messages]
