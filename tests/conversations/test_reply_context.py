"""What a reply is asked with, through the API: attachments' extracted text (named, cut
to a share of a tiny window), old turns dropped when the window is full, personas, and
the checks on attachments (another user's upload, one still being read)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from atelier.ai.providers.fake import FakeProvider
from atelier.conversations import service
from atelier.conversations.models import Conversation, MessageRole
from atelier.core.db import session_scope
from tests.conftest import run_jobs
from tests.conversations.helpers import API, conversation, detail, said, say
from tests.factories import Api, error_code
from tests.uploads.helpers import upload

pytestmark = pytest.mark.anyio

NOTES = "Interview notes. Renters pay 40 euros a month for storage they rarely use."


async def ready_upload(api: Api, app: Any, who: Any, name: str, text: str) -> dict[str, Any]:
    record = await upload(api, who, name, text.encode())
    await run_jobs(app, record["job_id"])
    return record


async def test_attachments_text_goes_into_the_prompt_named(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    notes = await ready_upload(api, app, me, "notes.txt", NOTES)
    chat = await conversation(api, me, title="T")
    fake_ai.push("Attachment 1 says 40 euros.")
    r = await say(api, me, chat["id"], "What do renters pay?", attachments=[notes["id"]])
    assert r.status_code == 202, r.text
    assert r.json()["message"]["metadata"] == {
        "attachments": [{"upload_id": notes["id"], "name": "notes.txt"}]
    }
    await run_jobs(app, r.json()["reply_job"]["id"])
    asked = fake_ai.requests[-1].messages[-1].content
    assert asked.startswith("What do renters pay?")
    assert f"[Attachment 1: notes.txt]\n{NOTES}\n[end of attachment 1]" in asked
    reply = (await detail(api, me, chat["id"]))["messages"][-1]
    [note] = reply["metadata"]["context"]["attachments"]
    assert note["upload_id"] == notes["id"] and note["cut"] is False


async def test_a_tiny_window_drops_old_turns_and_cuts_attachments(
    api: Api, app: Any, fake_ai: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await api.signup()
    await api.provider(me)
    long_text = "The storage market. " * 400  # 8000 characters
    big = await ready_upload(api, app, me, "market.txt", long_text)
    chat = await conversation(api, me, title="T")
    async with session_scope(app.state.sessionmaker) as session:
        row = await session.get(Conversation, uuid.UUID(chat["id"]))
        assert row is not None
        for n in range(30):
            await service.add_message(
                session,
                conversation=row,
                role=MessageRole.USER if n % 2 == 0 else MessageRole.ASSISTANT,
                content=f"turn {n}: " + "words " * 40,
            )
    monkeypatch.setattr(app.state.settings, "chat_context_window", 1200)
    fake_ai.push("Short answer.")
    await run_jobs(app, await said(api, me, chat["id"], "Sum it up", attachments=[big["id"]]))

    asked = fake_ai.requests[-1].messages
    prompt_chars = sum(len(m.content) for m in asked)
    assert prompt_chars < 1200 * 3  # the estimate's own bound: 3 characters a token
    context = (await detail(api, me, chat["id"]))["messages"][-1]["metadata"]["context"]
    assert context["window_tokens"] == 1200 and context["trimmed"] is True
    dropped = context["dropped_messages"]
    assert 0 < dropped < 30
    assert f"The {dropped} oldest messages" in asked[0].content
    assert asked[1].content.startswith(f"turn {dropped}:")  # the oldest kept one
    [note] = context["attachments"]
    assert note["cut"] is True and 0 < note["included_chars"] < len(long_text)
    assert "cut here" in asked[-1].content


async def test_attachments_must_be_readable_uploads_of_the_user(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me, other = await api.signup(), await api.signup()
    await api.provider(me)
    theirs = await ready_upload(api, app, other, "theirs.txt", "private")
    pending = await upload(api, me, "later.txt", b"not read yet")  # its job not run
    chat = await conversation(api, me, title="T")
    r = await say(api, me, chat["id"], "Read this", attachments=[theirs["id"]])
    assert r.status_code == 422 and "attachments.0" in r.text, r.text
    r = await say(api, me, chat["id"], "Read this", attachments=[pending["id"]])
    assert r.status_code == 409 and error_code(r) == "upload_still_processing", r.text
    r = await say(api, me, chat["id"], "Twice", attachments=[pending["id"], pending["id"]])
    assert r.status_code == 422, r.text
    assert (await detail(api, me, chat["id"]))["messages"] == []
    await run_jobs(app, pending["job_id"])
    r = await say(api, me, chat["id"], "Now", attachments=[pending["id"]])
    assert r.status_code == 202, r.text


async def test_personas_are_listed_and_a_project_chat_knows_its_project(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    r = await api.client.get(f"{API}/personas", headers=me.headers)
    assert r.status_code == 200, r.text
    keys = [p["key"] for p in r.json()["items"]]
    assert "assistant" in keys
    r = await api.client.post(API, json={"persona": "no-such-persona"}, headers=me.headers)
    assert r.status_code == 422 and "persona" in r.text

    project = await api.project(me, name="Storage for renters")
    chat = await conversation(api, me, project_id=project["id"], title="T")
    fake_ai.push("Fine.")
    await run_jobs(app, await said(api, me, chat["id"], "Hi"))
    system = fake_ai.requests[-1].messages[0].content
    assert 'about the project "Storage for renters"' in system


async def test_a_pack_persona_reads_its_tools_latest_result(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    project = await api.project(me, name="Bike library")
    r = await api.client.post(
        f"/api/v1/projects/{project['id']}/artifacts",
        json={
            "type": "example_title",
            "name": "Title",
            "input_data": {"note": "n"},
            "output_data": {"title": "Lend bikes by the hour"},
        },
        headers=me.headers,
    )
    assert r.status_code == 201, r.text
    chat = await conversation(api, me, project_id=project["id"], persona="coach", title="T")
    fake_ai.push("What do riders need?")
    await run_jobs(app, await said(api, me, chat["id"], "Where do I start?"))
    system = fake_ai.requests[-1].messages[0].content
    assert system.startswith("You are a coach for the project Bike library.")
    assert "in English" in system
    assert 'example_title "Title"' in system and "Lend bikes by the hour" in system
    generation = fake_ai.requests[-1]
    assert generation.json_schema is None  # free text, not a structured answer


async def test_a_provider_config_can_say_its_models_window(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me, options={"context_window": 2048})
    chat = await conversation(api, me, title="T")
    fake_ai.push("Fine.")
    await run_jobs(app, await said(api, me, chat["id"], "Hi"))
    context = (await detail(api, me, chat["id"]))["messages"][-1]["metadata"]["context"]
    assert context["window_tokens"] == 2048 and context["reply_tokens"] == 512
    r = await api.client.post(
        "/api/v1/ai-providers",
        json={
            "provider": "custom",
            "label": "x",
            "base_url": "http://127.0.0.1:9/v1",
            "default_model": "m",
            "options": {"context_window": 10},
        },
        headers=me.headers,
    )
    assert r.status_code == 422 and "context_window" in r.text
