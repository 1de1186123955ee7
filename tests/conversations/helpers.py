"""Chat test helpers: a conversation, a message sent, a reply's events read back."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import orjson
from sqlalchemy import select

from atelier.ai.models import AIGeneration
from atelier.core.db import session_scope
from atelier.jobs.events import events_after
from tests.factories import Account, Api

API = "/api/v1/conversations"


async def conversation(api: Api, who: Account, **fields: Any) -> dict[str, Any]:
    r = await api.client.post(API, json=fields, headers=who.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def say(api: Api, who: Account, conversation_id: str, content: str, **fields: Any) -> Any:
    return await api.client.post(
        f"{API}/{conversation_id}/messages",
        json={"content": content, **fields},
        headers=who.headers,
    )


async def said(api: Api, who: Account, conversation_id: str, content: str, **fields: Any) -> str:
    """Send a message; the reply job's id."""
    r = await say(api, who, conversation_id, content, **fields)
    assert r.status_code == 202, r.text
    return str(r.json()["reply_job"]["id"])


async def detail(api: Api, who: Account, conversation_id: str, **params: Any) -> dict[str, Any]:
    r = await api.client.get(f"{API}/{conversation_id}", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def parse_sse(body: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, event, data) of each event of an SSE body; comments skipped."""
    found = []
    for block in body.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
        if "event" in fields:
            found.append((fields.get("id", ""), fields["event"], orjson.loads(fields["data"])))
    return found


async def stream(
    api: Api, who: Account, conversation_id: str, **headers: str
) -> list[tuple[str, str, dict[str, Any]]]:
    r = await api.client.get(f"{API}/{conversation_id}/events", headers={**who.headers, **headers})
    assert r.status_code == 200, r.text
    return parse_sse(r.text)


async def wait_for_event(app: Any, job_id: str, kind: str, seconds: float = 10.0) -> None:
    """Until the job has an event of ``kind`` (the runner works in the background)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        async with session_scope(app.state.sessionmaker) as session:
            rows = await events_after(session, uuid.UUID(job_id), 0)
        if any(row.type == kind for row in rows):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {kind!r} event within {seconds} s")


async def generations_of(app: Any, conversation_id: str) -> list[AIGeneration]:
    async with session_scope(app.state.sessionmaker) as session:
        rows = await session.scalars(
            select(AIGeneration)
            .where(AIGeneration.conversation_id == uuid.UUID(conversation_id))
            .order_by(AIGeneration.created_at)
        )
        return list(rows.all())
