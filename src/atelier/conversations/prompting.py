"""What a reply is told besides the turns: the persona's system prompt filled in for
the project, the user's own instructions, the persona's tools' latest results, and
the attachments' extracted text (read here, cut to size by ``context.plan_context``)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import User
from atelier.ai.generation import language_of
from atelier.artifacts.models import Artifact
from atelier.conversations.context import CHARS_PER_TOKEN, Attachment
from atelier.conversations.models import Conversation, Message
from atelier.conversations.personas import persona_for
from atelier.core.languages import DEFAULT_LANGUAGE, LANGUAGES
from atelier.projects.models import Project
from atelier.uploads.models import Upload, UploadStatus, UploadText

# Each tool result a persona brings in is cut to this many tokens.
TOOL_RESULT_TOKENS = 600


class _Blank(dict[str, str]):
    """Placeholders a persona's template uses but this chat has no value for: empty."""

    def __missing__(self, key: str) -> str:
        return ""


async def system_prompt_for(
    session: AsyncSession, conversation: Conversation, project: Project | None, user_id: uuid.UUID
) -> str:
    persona = persona_for(conversation.persona)
    owner = await session.get(User, user_id)
    language = _language(project, owner)
    values = _Blank(
        language=LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])[0],
        project_name=project.name if project else "",
        project_description=(project.description or "") if project else "",
        project_line=(
            f'The conversation is about the project "{project.name}"'
            + (f": {project.description[:500]}" if project.description else ".")
            if project
            else ""
        ),
    )
    parts = [persona.system_prompt.format_map(values).strip()]
    if project is not None and persona.context_tools:
        parts += await _tool_results(session, project.id, persona.context_tools)
    if conversation.system_prompt:
        parts.append(
            f"The user's instructions for this conversation:\n{conversation.system_prompt}"
        )
    return "\n\n".join(part for part in parts if part)


def _language(project: Project | None, owner: User | None) -> str:
    if project is not None:
        return language_of(project, owner)
    preferred = (owner.preferences or {}).get("language") if owner is not None else None
    return preferred if isinstance(preferred, str) and preferred in LANGUAGES else DEFAULT_LANGUAGE


async def _tool_results(
    session: AsyncSession, project_id: uuid.UUID, tools: tuple[str, ...]
) -> list[str]:
    """The newest result of each tool in the project, as compact JSON, cut to size."""
    rows = await session.scalars(
        select(Artifact)
        .where(
            Artifact.project_id == project_id,
            Artifact.type.in_(tools),
            Artifact.deleted_at.is_(None),
            Artifact.output_data.is_not(None),
        )
        .order_by(Artifact.updated_at.desc())
    )
    newest: dict[str, Artifact] = {}
    for artifact in rows.all():
        newest.setdefault(artifact.type, artifact)
    limit = TOOL_RESULT_TOKENS * CHARS_PER_TOKEN
    found = []
    for tool in tools:
        latest = newest.get(tool)
        if latest is None:
            continue
        body = json.dumps(latest.output_data, ensure_ascii=False, separators=(",", ":"))
        cut = " (cut)" if len(body) > limit else ""
        found.append(f'The project\'s {tool} "{latest.name}"{cut}:\n{body[:limit]}')
    return found


async def load_attachments(
    session: AsyncSession, messages: Iterable[Message]
) -> dict[str, Attachment]:
    """The attachments of ``messages`` by upload id, each with its extracted text (None
    when it has none, or the upload was deleted since)."""
    names: dict[str, str] = {}
    for message in messages:
        for item in (message.meta or {}).get("attachments", []):
            if isinstance(item, dict) and item.get("upload_id"):
                names[str(item["upload_id"])] = str(item.get("name") or "file")
    ids = [_uuid(key) for key in names]
    valid = [i for i in ids if i is not None]
    if not valid:
        return {}
    uploads = {
        row.id: row for row in (await session.scalars(select(Upload).where(Upload.id.in_(valid))))
    }
    texts = {
        row.upload_id: row.content
        for row in await session.scalars(select(UploadText).where(UploadText.upload_id.in_(valid)))
    }
    found: dict[str, Attachment] = {}
    for key, name in names.items():
        upload_id = _uuid(key)
        upload = uploads.get(upload_id) if upload_id else None
        readable = upload is not None and upload.status != UploadStatus.DELETED
        text = texts.get(upload_id) if readable and upload_id else None
        found[key] = Attachment(upload_id=key, name=name, text=text or None)
    return found


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
