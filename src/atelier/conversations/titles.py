"""A conversation's title after its first exchange: a few words by the model, or, when
that call fails or says nothing usable, the first words of the user's message."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace

from atelier.ai.free_text import stream_text
from atelier.ai.generation import Generator
from atelier.ai.providers.base import Message, ProviderError
from atelier.ai.runtime import AIRuntime
from atelier.conversations.models import Conversation
from atelier.core.db import session_scope
from atelier.jobs.runner import JobControl

TITLE_MAX = 80
FALLBACK_WORDS = 60  # characters of the user's message a fallback title keeps
EXCERPT = 1000
# Straight and typographic quotes, stars and backticks around a title.
QUOTES = "\"'`*\u201c\u201d\u2018\u2019"

TITLE_PROMPT = (
    "Write a title for this conversation: at most six words, in the language of the "
    "user's message, no quotes, no final full stop. Answer with the title only."
)


def first_words(text: str, limit: int = FALLBACK_WORDS) -> str:
    """The start of ``text`` on one line, cut at a word boundary, with an ellipsis when
    something was left out."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line or "Conversation"
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip(",;:.-") + "…"


def clean_title(text: str) -> str | None:
    """The model's answer as a title: first non-empty line, without Markdown, quotes
    and a "Title:" label; None when nothing is left."""
    for line in text.splitlines():
        line = re.sub(r"^\s*(#+|\*+|title\s*:)\s*", "", line, flags=re.IGNORECASE)
        line = line.strip().strip(QUOTES).rstrip(".").strip()
        if line:
            return line[:TITLE_MAX]
    return None


async def name_conversation(
    runtime: AIRuntime,
    control: JobControl,
    generator: Generator,
    conversation_id: uuid.UUID,
    question: str,
    reply: str,
) -> str:
    """Title the conversation (unless the user named it meanwhile) and say so in a
    "title" event; returns the title used."""
    title: str | None = None
    source = "model"
    # Its own audit rows, named apart from the reply's.
    titler = Generator(
        runtime, generator.resolved, replace(generator.record, prompt_template="chat.title")
    )
    try:
        answer = await stream_text(
            titler,
            messages=[
                Message(role="system", content=TITLE_PROMPT),
                Message(
                    role="user",
                    content=f"User: {question[:EXCERPT]}\n\nAssistant: {reply[:EXCERPT]}",
                ),
            ],
            max_tokens=24,
            temperature=0.2,
            on_text=_ignore,
        )
        title = clean_title(answer.text)
    except ProviderError:
        title = None  # the fallback below; the failed call has its audit row
    if title is None:
        title, source = first_words(question), "first_words"
    async with runtime.steps, session_scope(runtime.maker) as session:
        conversation = await session.get(Conversation, conversation_id)
        if conversation is None or conversation.title is not None:
            return conversation.title if conversation and conversation.title else title
        conversation.title = title
        conversation.meta = {**(conversation.meta or {}), "title_source": source}
        control.add_event(session, "title", {"title": title, "source": source})
    control.events.announce(control.job_id)
    return title


async def _ignore(_delta: str) -> None:
    return None
