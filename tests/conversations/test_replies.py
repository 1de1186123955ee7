"""Chat replies end to end on both back ends: the reply streamed into events and stored
with its model, tokens and audit row; the title after the first exchange; stop,
regenerate, retries and failures; what a refused message leaves behind (nothing)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from atelier.ai.models import GenerationStatus
from atelier.ai.providers.base import ProviderError
from atelier.ai.providers.fake import FakeProvider
from tests.conftest import run_jobs
from tests.conversations.helpers import (
    API,
    conversation,
    detail,
    generations_of,
    said,
    say,
    stream,
    wait_for_event,
)
from tests.factories import Api, error_code

pytestmark = pytest.mark.anyio

REPLY = (
    "Start with the **renters** you know.\n\n```python\nprint('interview')\n```\n"
    "Then ask what they pay today."
)


async def test_a_reply_is_streamed_stored_audited_and_names_the_conversation(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, system_prompt="Be brief.")
    fake_ai.push(REPLY, '"Interviewing renters."\n')
    r = await say(api, me, chat["id"], "How do I find my first customers?")
    assert r.status_code == 202, r.text
    sent = r.json()
    assert sent["message"]["role"] == "USER"
    assert sent["events_url"] == f"{API}/{chat['id']}/events"
    job_id = sent["reply_job"]["id"]
    await run_jobs(app, job_id)

    events = await stream(api, me, chat["id"])
    kinds = [kind for _, kind, _ in events]
    assert kinds[0] == "queued" and kinds[-1] == "succeeded"
    tokens = [data["text"] for _, kind, data in events if kind == "token"]
    assert "".join(tokens) == REPLY  # every delta, in order, nothing twice
    assert kinds.index("message") > max(i for i, k in enumerate(kinds) if k == "token")
    assert ("title", {"title": "Interviewing renters", "source": "model"}) in [
        (kind, data) for _, kind, data in events
    ]
    # A client that reconnects gets only what it had not seen.
    first_token = next(n for n, (_, kind, _) in enumerate(events) if kind == "token")
    resumed = await stream(api, me, chat["id"], **{"Last-Event-ID": events[first_token][0]})
    assert resumed == events[first_token + 1 :]

    # What the model was asked: the persona, the user's own instructions, the message.
    asked = fake_ai.requests[0].messages
    assert asked[0].role == "system" and "Be brief." in asked[0].content
    assert asked[-1].role == "user" and asked[-1].content == "How do I find my first customers?"

    got = await detail(api, me, chat["id"])
    assert got["title"] == "Interviewing renters"
    assert [m["role"] for m in got["messages"]] == ["USER", "ASSISTANT"]
    reply = got["messages"][1]
    assert reply["content"] == REPLY
    meta = reply["metadata"]
    assert meta["model"] == "fake-model" and meta["stopped"] is False
    assert meta["output_tokens"] > 0 and meta["input_tokens"] > 0
    assert meta["in_reply_to"] == sent["message"]["id"]
    assert meta["context"]["dropped_messages"] == 0 and meta["context"]["trimmed"] is False
    assert got["reply_job"]["status"] == "succeeded"

    rows = await generations_of(app, chat["id"])
    assert [row.prompt_template for row in rows] == ["chat.reply:assistant", "chat.title"]
    assert all(row.status == GenerationStatus.SUCCESS for row in rows)
    assert str(rows[0].id) == meta["ai_generation_id"]
    assert rows[0].output_tokens == meta["output_tokens"]


async def test_the_title_falls_back_to_the_first_words_when_the_model_fails(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me)
    fake_ai.push("Sure.", ProviderError("nope", code="bad_request"))
    question = "What should a landlord ask a new tenant before signing a lease for a flat?"
    await run_jobs(app, await said(api, me, chat["id"], question))
    got = await detail(api, me, chat["id"])
    assert got["title"] == "What should a landlord ask a new tenant before signing a…"
    assert got["metadata"]["title_source"] == "first_words"
    # A title the user gave is never replaced.
    named = await conversation(api, me, title="Mine")
    fake_ai.push("Fine.")
    await run_jobs(app, await said(api, me, named["id"], "Hello"))
    assert (await detail(api, me, named["id"]))["title"] == "Mine"
    assert len(fake_ai.requests) == 3  # no title call for a named chat


async def test_history_goes_with_each_new_message(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="T")
    fake_ai.push("First answer.")
    await run_jobs(app, await said(api, me, chat["id"], "First question"))
    fake_ai.push("Second answer.")
    await run_jobs(app, await said(api, me, chat["id"], "Second question"))
    asked = [(m.role, m.content) for m in fake_ai.requests[-1].messages[1:]]
    assert asked == [
        ("user", "First question"),
        ("assistant", "First answer."),
        ("user", "Second question"),
    ]


async def test_regenerate_replaces_the_last_reply_and_keeps_the_old_one(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="T")
    fake_ai.push("Answer one.")
    await run_jobs(app, await said(api, me, chat["id"], "Question"))
    before = await detail(api, me, chat["id"])
    reply_id = before["messages"][-1]["id"]

    fake_ai.push("Answer two.")
    r = await api.client.post(f"{API}/{chat['id']}/regenerate", headers=me.headers)
    assert r.status_code == 202, r.text
    await run_jobs(app, r.json()["reply_job"]["id"])
    # Asked the same question with the same history (the old reply is not in it).
    assert [(m.role, m.content) for m in fake_ai.requests[-1].messages[1:]] == [
        ("user", "Question")
    ]
    after = await detail(api, me, chat["id"])
    assert [m["id"] for m in after["messages"]] == [m["id"] for m in before["messages"]]
    reply = after["messages"][-1]
    assert reply["id"] == reply_id and reply["content"] == "Answer two."
    alternatives = reply["metadata"]["alternatives"]
    assert [alt["content"] for alt in alternatives] == ["Answer one."]
    assert alternatives[0]["metadata"]["model"] == "fake-model"

    fake_ai.push("Answer three.")
    r = await api.client.post(f"{API}/{chat['id']}/regenerate", headers=me.headers)
    await run_jobs(app, r.json()["reply_job"]["id"])
    reply = (await detail(api, me, chat["id"]))["messages"][-1]
    assert [alt["content"] for alt in reply["metadata"]["alternatives"]] == [
        "Answer one.",
        "Answer two.",
    ]


async def test_a_failed_reply_leaves_the_question_and_regenerate_answers_it(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="T")
    fake_ai.push(ProviderError("the model is overloaded", code="provider_error"))
    job_id = await said(api, me, chat["id"], "Question")
    await run_jobs(app, job_id)
    got = await detail(api, me, chat["id"])
    assert [m["role"] for m in got["messages"]] == ["USER"]
    assert got["reply_job"]["status"] == "failed"
    assert "overloaded" in got["reply_job"]["error_message"]
    rows = await generations_of(app, chat["id"])
    assert [row.status for row in rows] == [GenerationStatus.ERROR]

    fake_ai.push("Now it works.")
    r = await api.client.post(f"{API}/{chat['id']}/regenerate", headers=me.headers)
    assert r.status_code == 202, r.text
    await run_jobs(app, r.json()["reply_job"]["id"])
    got = await detail(api, me, chat["id"])
    assert [(m["role"], m["content"]) for m in got["messages"]] == [
        ("USER", "Question"),
        ("ASSISTANT", "Now it works."),
    ]


async def test_a_retried_call_tells_followers_to_discard_its_text(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="T")
    fake_ai.push(ProviderError("busy", retryable=True, retry_after=0), "After the retry.")
    await run_jobs(app, await said(api, me, chat["id"], "Question"))
    events = await stream(api, me, chat["id"])
    failed = [data for _, kind, data in events if kind == "attempt_failed"]
    assert failed and failed[0]["discard_text"] is True and failed[0]["reason"] == "provider_error"
    tokens = [data for _, kind, data in events if kind == "token"]
    assert "".join(t["text"] for t in tokens) == "After the retry."
    assert {t["attempt"] for t in tokens} == {2}
    statuses = [row.status for row in await generations_of(app, chat["id"])]
    assert statuses == [GenerationStatus.ERROR, GenerationStatus.SUCCESS]


async def test_stop_keeps_what_was_written_marked_stopped(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="T")
    long_reply = " ".join(f"word{n}" for n in range(400))
    fake_ai.chunk_delay = 0.02
    fake_ai.chunk_size = 8
    fake_ai.push(long_reply)
    job_id = await said(api, me, chat["id"], "Tell me a long story")
    running = asyncio.create_task(run_jobs(app, job_id))
    try:
        await wait_for_event(app, job_id, "token")
        r = await api.client.post(f"{API}/{chat['id']}/stop", headers=me.headers)
        assert r.status_code == 200, r.text
        await asyncio.wait_for(running, 10)
    finally:
        fake_ai.chunk_delay = 0.0
        fake_ai.chunk_size = 16
    got = await detail(api, me, chat["id"])
    assert got["reply_job"]["status"] == "cancelled"
    reply = got["messages"][-1]
    assert reply["role"] == "ASSISTANT" and reply["metadata"]["stopped"] is True
    assert reply["content"] and long_reply.startswith(reply["content"])
    assert len(reply["content"]) < len(long_reply)
    # What the stream showed is what was kept; and the stopped call is audited.
    events = await stream(api, me, chat["id"])
    assert "".join(d["text"] for _, k, d in events if k == "token") == reply["content"]
    assert [k for _, k, _ in events][-1] == "cancelled"
    rows = await generations_of(app, chat["id"])
    assert rows[-1].status == GenerationStatus.ERROR and rows[-1].output_tokens > 0
    assert "stopped" in (rows[-1].error_message or "")
    # Nothing runs now: stop again is a 409.
    r = await api.client.post(f"{API}/{chat['id']}/stop", headers=me.headers)
    assert r.status_code == 409 and error_code(r) == "no_reply_running"


async def test_one_reply_at_a_time_and_not_in_an_archived_chat(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="T")
    job_id = await said(api, me, chat["id"], "First")
    r = await say(api, me, chat["id"], "Second, too soon")
    assert r.status_code == 409 and error_code(r) == "reply_in_progress", r.text
    r = await api.client.post(f"{API}/{chat['id']}/regenerate", headers=me.headers)
    assert r.status_code == 409 and error_code(r) == "reply_in_progress"
    fake_ai.push("Answer.")
    await run_jobs(app, job_id)
    assert len((await detail(api, me, chat["id"]))["messages"]) == 2

    r = await api.client.patch(f"{API}/{chat['id']}", json={"is_active": False}, headers=me.headers)
    assert r.status_code == 200
    r = await say(api, me, chat["id"], "Hello?")
    assert r.status_code == 409 and error_code(r) == "conversation_archived"
    assert len((await detail(api, me, chat["id"]))["messages"]) == 2


async def test_bad_messages_are_refused_naming_the_field(api: Api, fake_ai: FakeProvider) -> None:
    me = await api.signup()
    chat = await conversation(api, me)
    for body, field in (
        ({"content": "   "}, "content"),
        ({"content": "x" * 32_001}, "content"),
        ({"content": "a\u0000b"}, "content"),
        ({"content": "ok", "attachments": ["nope"]}, "attachments"),
        ({"content": "ok", "attachments": [str(uuid.uuid4())] * 11}, "attachments"),
        ({"content": "ok", "surprise": 1}, "surprise"),
    ):
        r = await api.client.post(f"{API}/{chat['id']}/messages", json=body, headers=me.headers)
        assert r.status_code == 422, (body, r.text)
        assert field in r.text
    r = await api.client.post(f"{API}/{chat['id']}/regenerate", headers=me.headers)
    assert r.status_code == 409 and error_code(r) == "nothing_to_regenerate"
    r = await api.client.get(f"{API}/{chat['id']}/events", headers=me.headers)
    assert r.status_code == 404 and error_code(r) == "no_reply"
    assert (await detail(api, me, chat["id"]))["messages"] == []


async def test_no_budget_no_call_and_nothing_stored(
    api: Api, app: Any, fake_ai: FakeProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await api.signup()
    await api.provider(me)
    chat = await conversation(api, me, title="T")
    fake_ai.push("Answer.")
    await run_jobs(app, await said(api, me, chat["id"], "Hello"))
    # Every plan allows one token a month, and the first reply used more.
    limits = ",".join(f"{plan}=1:0" for plan in ("FREE", "BASIC", "STARTER", "PRO"))
    monkeypatch.setattr(app.state.settings, "plan_limits", limits)
    calls = len(fake_ai.requests)
    before = await detail(api, me, chat["id"])
    r = await say(api, me, chat["id"], "Hello again")
    assert r.status_code == 402 and error_code(r) == "budget_exceeded", r.text
    r = await api.client.post(f"{API}/{chat['id']}/regenerate", headers=me.headers)
    assert r.status_code == 402 and error_code(r) == "budget_exceeded", r.text
    assert len(fake_ai.requests) == calls
    after = await detail(api, me, chat["id"])
    assert after["messages"] == before["messages"]
    assert after["reply_job"]["id"] == before["reply_job"]["id"]
