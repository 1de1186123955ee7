"""What the conversations API takes and answers."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from atelier.conversations.models import Conversation, Message, MessageRole
from atelier.conversations.persona_spec import Persona
from atelier.core.schemas import InputModel
from atelier.core.strict_json import StrictJsonObject, check_json
from atelier.jobs.schemas import JobOut

SYSTEM_PROMPT_MAX = 20_000
MESSAGE_MAX = 32_000
ATTACHMENTS_MAX = 10

# A conversation's message count and the time of its last message.
MessageStats = tuple[int, dt.datetime | None]
NO_MESSAGES: MessageStats = (0, None)


def _storable(text: str) -> str:
    # PostgreSQL's text refuses NUL and no database takes a lone surrogate: a 422 naming
    # the field here, not a 500 from the driver.
    check_json(text)
    return text


Title = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_storable)]
PersonaKey = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$"),
    Field(description="a persona key a pack declares"),
]
SystemPrompt = Annotated[
    str,
    StringConstraints(min_length=1, max_length=SYSTEM_PROMPT_MAX),
    AfterValidator(_storable),
]


class ConversationCreate(InputModel):
    title: Title | None = None
    project_id: uuid.UUID | None = Field(
        default=None, description="a project you may write to; the chat is about it"
    )
    persona: PersonaKey | None = None
    system_prompt: SystemPrompt | None = Field(
        default=None, description="your own instructions for the replies"
    )
    metadata: StrictJsonObject | None = None


class ConversationUpdate(InputModel):
    title: Title | None = Field(default=None, description="null clears the title")
    is_active: bool | None = Field(
        default=None, description="false archives the conversation, true restores it"
    )


MessageText = Annotated[
    str, StringConstraints(min_length=1, max_length=MESSAGE_MAX), AfterValidator(_storable)
]


class MessageCreate(InputModel):
    content: MessageText = Field(description="what you write; Markdown is shown as such")
    attachments: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=ATTACHMENTS_MAX,
        description="ids of uploads of yours whose text the reply may read",
    )
    provider_id: uuid.UUID | None = Field(
        default=None, description="an AI provider of yours for this reply (else the default)"
    )


class RegenerateRequest(InputModel):
    provider_id: uuid.UUID | None = Field(
        default=None, description="an AI provider of yours for this reply (else the default)"
    )


class MessageOut(BaseModel):
    id: uuid.UUID
    role: MessageRole
    content: str
    metadata: dict[str, Any] | None = None
    created_at: dt.datetime

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls(
            id=message.id,
            role=message.role,
            content=message.content,
            metadata=message.meta,
            created_at=message.created_at,
        )


class ConversationOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    project_id: uuid.UUID | None = None
    title: str | None = None
    persona: str | None = None
    system_prompt: str | None = None
    is_active: bool
    metadata: dict[str, Any] | None = None
    message_count: int = 0
    last_message_at: dt.datetime | None = None
    created_at: dt.datetime
    updated_at: dt.datetime = Field(description="moves with every new message")

    @classmethod
    def of(
        cls, conversation: Conversation, stats: MessageStats = NO_MESSAGES, **extra: Any
    ) -> Self:
        """``stats``: its message count and last message time (service.message_stats)."""
        count, last = stats
        return cls(
            id=conversation.id,
            user_id=conversation.user_id,
            project_id=conversation.project_id,
            title=conversation.title,
            persona=conversation.persona,
            system_prompt=conversation.system_prompt,
            is_active=conversation.is_active,
            metadata=conversation.meta,
            message_count=count,
            last_message_at=last,
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
            **extra,
        )


class PersonaOut(BaseModel):
    key: str
    name: str
    description: str
    context_tools: list[str] = Field(
        description="tools whose latest results in the chat's project the replies read"
    )

    @classmethod
    def of(cls, persona: Persona) -> PersonaOut:
        return cls(
            key=persona.key,
            name=persona.name,
            description=persona.description,
            context_tools=list(persona.context_tools),
        )


class PersonaList(BaseModel):
    items: list[PersonaOut]


class MessageSent(BaseModel):
    message: MessageOut = Field(description="your message, stored")
    reply_job: JobOut = Field(description="the job writing the reply")
    events_url: str = Field(description="the reply's events (SSE): tokens as they come")


class ReplyStarted(BaseModel):
    reply_job: JobOut
    events_url: str


class ConversationDetail(ConversationOut):
    messages: list[MessageOut] = Field(
        description="the newest messages, oldest first (the newest is last)"
    )
    messages_before: str | None = Field(
        default=None,
        description="pass as ?before= for the page of older messages; null: none older",
    )
    reply_job: JobOut | None = Field(
        default=None, description="the job writing (or that last wrote) a reply"
    )
