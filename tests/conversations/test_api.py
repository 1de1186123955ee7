"""The conversations API end to end, on both database back ends: create, list, read with
paged messages, rename, archive, restore, delete; a conversation is its owner's alone."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import delete, select

from atelier.accounts.models import User
from atelier.conversations import service
from atelier.conversations.models import Conversation, Message, MessageRole
from atelier.core.db import session_scope
from atelier.projects.models import Project
from tests.factories import Account, Api, error_code

pytestmark = pytest.mark.anyio

API = "/api/v1/conversations"


async def create(api: Api, who: Account, **fields: Any) -> dict[str, Any]:
    r = await api.client.post(API, json=fields, headers=who.headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def listed(api: Api, who: Account, **params: Any) -> list[str]:
    r = await api.client.get(API, params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


async def add_messages(app: Any, conversation_id: str, contents: list[str]) -> None:
    """Messages as the reply job will add them: through the service, committed."""
    async with session_scope(app.state.sessionmaker) as session:
        conversation = await session.get(Conversation, uuid.UUID(conversation_id))
        assert conversation is not None
        for n, content in enumerate(contents):
            role = MessageRole.USER if n % 2 == 0 else MessageRole.ASSISTANT
            await service.add_message(
                session, conversation=conversation, role=role, content=content, meta={"n": n}
            )


async def test_create_read_rename_archive_restore_delete(api: Api, app: Any) -> None:
    me = await api.signup()
    r = await api.client.post(
        API,
        json={
            "title": "  Pricing ideas  ",
            "persona": "coach",
            "system_prompt": "Answer in French.",
            "metadata": {"temperature": 0.2},
        },
        headers=me.headers,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert r.headers["location"] == f"{API}/{made['id']}"
    assert made["title"] == "Pricing ideas"
    assert made["user_id"] == me.id and made["project_id"] is None
    assert made["persona"] == "coach" and made["system_prompt"] == "Answer in French."
    assert made["metadata"] == {"temperature": 0.2}
    assert made["is_active"] is True
    assert made["message_count"] == 0 and made["last_message_at"] is None

    r = await api.client.get(f"{API}/{made['id']}", headers=me.headers)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["messages"] == [] and got["messages_before"] is None
    assert {k: got[k] for k in made} == made

    r = await api.client.patch(f"{API}/{made['id']}", json={"title": "Pricing"}, headers=me.headers)
    assert r.status_code == 200 and r.json()["title"] == "Pricing"
    # Only the fields sent change.
    assert r.json()["persona"] == "coach" and r.json()["is_active"] is True
    r = await api.client.patch(f"{API}/{made['id']}", json={"title": None}, headers=me.headers)
    assert r.status_code == 200 and r.json()["title"] is None

    r = await api.client.patch(f"{API}/{made['id']}", json={"is_active": False}, headers=me.headers)
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert await listed(api, me) == []
    assert await listed(api, me, active="false") == [made["id"]]
    r = await api.client.patch(f"{API}/{made['id']}", json={"is_active": True}, headers=me.headers)
    assert r.status_code == 200 and r.json()["is_active"] is True
    assert await listed(api, me) == [made["id"]]

    r = await api.client.delete(f"{API}/{made['id']}", headers=me.headers)
    assert r.status_code == 204
    r = await api.client.get(f"{API}/{made['id']}", headers=me.headers)
    assert r.status_code == 404 and error_code(r) == "conversation_not_found"
    r = await api.client.delete(f"{API}/{made['id']}", headers=me.headers)
    assert r.status_code == 404


async def test_a_bare_conversation_needs_no_fields(api: Api) -> None:
    me = await api.signup()
    made = await create(api, me)
    assert made["title"] is None and made["persona"] is None and made["metadata"] is None


async def test_list_is_newest_first_filtered_and_paged(api: Api, app: Any) -> None:
    me = await api.signup()
    project = await api.project(me)
    made = [await create(api, me, title=f"c{n}") for n in range(3)]
    about = await create(api, me, title="about the plan", project_id=project["id"])
    archived = await create(api, me, title="old")
    r = await api.client.patch(
        f"{API}/{archived['id']}", json={"is_active": False}, headers=me.headers
    )
    assert r.status_code == 200

    newest_first = [about["id"], *(c["id"] for c in reversed(made))]
    assert await listed(api, me) == newest_first
    assert await listed(api, me, active="true") == newest_first
    assert await listed(api, me, active="false") == [archived["id"]]
    assert await listed(api, me, project_id=project["id"]) == [about["id"]]
    assert await listed(api, me, project_id=project["id"], active="false") == []

    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await api.client.get(API, params=params, headers=me.headers)
        assert r.status_code == 200, r.text
        seen += [item["id"] for item in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
    assert seen == newest_first

    # Message counts and last message times come with each item.
    await add_messages(app, made[0]["id"], ["a", "b", "c"])
    r = await api.client.get(API, headers=me.headers)
    items = {item["id"]: item for item in r.json()["items"]}
    assert items[made[0]["id"]]["message_count"] == 3
    assert items[made[0]["id"]]["last_message_at"] is not None
    assert items[made[1]["id"]]["message_count"] == 0
    assert items[made[1]["id"]]["last_message_at"] is None


async def test_messages_page_newest_last_with_before(api: Api, app: Any) -> None:
    me = await api.signup()
    made = await create(api, me, title="long chat")
    contents = [f"message {n}" for n in range(7)]
    await add_messages(app, made["id"], contents)

    r = await api.client.get(
        f"{API}/{made['id']}", params={"messages_limit": 3}, headers=me.headers
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["message_count"] == 7
    assert [m["content"] for m in body["messages"]] == contents[4:]
    first = body["messages"][0]
    assert set(first) == {"id", "role", "content", "metadata", "created_at"}
    assert first["role"] == "USER" and first["metadata"] == {"n": 4}
    assert body["messages"][1]["role"] == "ASSISTANT"
    assert body["last_message_at"] == body["messages"][-1]["created_at"]
    # A new message moves the conversation's updated_at to its time.
    assert body["updated_at"] == body["last_message_at"]

    pages = [[m["content"] for m in body["messages"]]]
    before = body["messages_before"]
    while before is not None:
        r = await api.client.get(
            f"{API}/{made['id']}",
            params={"messages_limit": 3, "before": before},
            headers=me.headers,
        )
        assert r.status_code == 200, r.text
        pages.append([m["content"] for m in r.json()["messages"]])
        before = r.json()["messages_before"]
    assert pages == [contents[4:], contents[1:4], contents[:1]]

    r = await api.client.get(f"{API}/{made['id']}", headers=me.headers)
    assert [m["content"] for m in r.json()["messages"]] == contents
    assert r.json()["messages_before"] is None

    r = await api.client.get(f"{API}/{made['id']}", params={"before": "junk"}, headers=me.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.before"
    for bad in (0, 201):
        r = await api.client.get(
            f"{API}/{made['id']}", params={"messages_limit": bad}, headers=me.headers
        )
        assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.messages_limit"


async def test_deleting_a_conversation_deletes_its_messages(api: Api, app: Any) -> None:
    me = await api.signup()
    made = await create(api, me)
    await add_messages(app, made["id"], ["one", "two"])
    r = await api.client.delete(f"{API}/{made['id']}", headers=me.headers)
    assert r.status_code == 204
    async with app.state.sessionmaker() as session:
        left = await session.scalars(
            select(Message.id).where(Message.conversation_id == uuid.UUID(made["id"]))
        )
        assert left.all() == []


async def test_validation_errors_name_the_field(api: Api) -> None:
    me = await api.signup()

    async def refused(method: str, url: str, body: dict[str, Any]) -> str:
        r = await api.client.request(method, url, json=body, headers=me.headers)
        assert r.status_code == 422, (body, r.text)
        assert error_code(r) == "validation_error"
        return str(r.json()["detail"][0]["field"])

    assert await refused("POST", API, {"title": "x" * 201}) == "body.title"
    assert await refused("POST", API, {"title": "   "}) == "body.title"
    assert await refused("POST", API, {"title": "a\x00b"}) == "body.title"
    assert await refused("POST", API, {"system_prompt": "x" * 20_001}) == "body.system_prompt"
    assert await refused("POST", API, {"persona": "Not A Key!"}) == "body.persona"
    assert await refused("POST", API, {"metadata": [1, 2]}) == "body.metadata"
    assert await refused("POST", API, {"project_id": "nope"}) == "body.project_id"
    assert await refused("POST", API, {"colour": "blue"}) == "body.colour"
    # The longest system prompt allowed is taken.
    made = await create(api, me, system_prompt="x" * 20_000)

    url = f"{API}/{made['id']}"
    assert await refused("PATCH", url, {"persona": "other"}) == "body.persona"
    assert await refused("PATCH", url, {"is_active": None}) == "body.is_active"
    assert await refused("PATCH", url, {"is_active": "maybe"}) == "body.is_active"
    assert await refused("PATCH", url, {"title": ""}) == "body.title"
    r = await api.client.get(API, params={"active": "maybe"}, headers=me.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.active"
    r = await api.client.get(API, params={"cursor": "junk"}, headers=me.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.cursor"
    r = await api.client.get(f"{API}/not-a-uuid", headers=me.headers)
    assert r.status_code == 404 and error_code(r) == "invalid_id"


async def test_a_project_must_be_one_you_may_write_to(api: Api) -> None:
    owner, member, viewer, stranger = [
        await api.signup(n) for n in ("Owner", "Member", "Viewer", "Stranger")
    ]
    org = await api.organization(owner)
    await api.add_member(owner, org["id"], member, "MEMBER")
    await api.add_member(owner, org["id"], viewer, "VIEWER")
    project = await api.project(owner, organization_id=org["id"])
    private = await api.project(owner, name="Private")

    made = await create(api, member, project_id=project["id"])
    assert made["project_id"] == project["id"] and made["user_id"] == member.id

    r = await api.client.post(API, json={"project_id": project["id"]}, headers=viewer.headers)
    assert r.status_code == 403, r.text
    for who, project_id in ((stranger, project["id"]), (member, private["id"])):
        r = await api.client.post(API, json={"project_id": project_id}, headers=who.headers)
        assert r.status_code == 404 and error_code(r) == "project_not_found"
    r = await api.client.post(API, json={"project_id": str(uuid.uuid4())}, headers=owner.headers)
    assert r.status_code == 404 and error_code(r) == "project_not_found"

    # Conversations are their owner's alone, even about a shared project.
    assert await listed(api, owner, project_id=project["id"]) == []
    r = await api.client.get(f"{API}/{made['id']}", headers=owner.headers)
    assert r.status_code == 404
    for who in (viewer, stranger):
        assert await listed(api, who) == []


async def test_another_user_cannot_reach_a_conversation(api: Api, app: Any) -> None:
    alice, bob = await api.signup("Alice"), await api.signup("Bob")
    project = await api.project(alice)
    made = await create(api, alice, title="Alice only", project_id=project["id"])
    await add_messages(app, made["id"], ["a secret"])
    await create(api, bob, title="Bob's")
    url = f"{API}/{made['id']}"

    for method, body in (("GET", None), ("PATCH", {"title": "taken"}), ("DELETE", None)):
        r = await api.client.request(method, url, json=body, headers=bob.headers)
        assert r.status_code == 404, (method, r.text)
        assert error_code(r) == "conversation_not_found"
        assert "secret" not in r.text and "Alice" not in r.text
    r = await api.client.patch(url, json={"is_active": False}, headers=bob.headers)
    assert r.status_code == 404
    for params in ({}, {"active": "false"}, {"project_id": project["id"]}):
        r = await api.client.get(API, params=params, headers=bob.headers)
        assert made["id"] not in r.text

    r = await api.client.get(url, headers=alice.headers)
    assert r.status_code == 200
    assert r.json()["title"] == "Alice only" and r.json()["is_active"] is True
    assert [m["content"] for m in r.json()["messages"]] == ["a secret"]


async def test_deleting_the_project_keeps_the_conversation(api: Api, app: Any) -> None:
    me = await api.signup()
    project = await api.project(me)
    made = await create(api, me, project_id=project["id"])
    # A soft delete keeps the link; removing the row (as purging would) sets it to null.
    r = await api.client.delete(f"/api/v1/projects/{project['id']}", headers=me.headers)
    assert r.status_code == 204
    r = await api.client.get(f"{API}/{made['id']}", headers=me.headers)
    assert r.json()["project_id"] == project["id"]
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(delete(Project).where(Project.id == uuid.UUID(project["id"])))
    r = await api.client.get(f"{API}/{made['id']}", headers=me.headers)
    assert r.status_code == 200, r.text
    assert r.json()["project_id"] is None
    assert await listed(api, me) == [made["id"]]


async def test_deleting_the_user_deletes_their_conversations(api: Api, app: Any) -> None:
    me = await api.signup()
    made = await create(api, me)
    await add_messages(app, made["id"], ["hello"])
    async with session_scope(app.state.sessionmaker) as session:
        conversation = await session.get(Conversation, uuid.UUID(made["id"]))
        assert conversation is not None
        user_id = conversation.user_id
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(delete(User).where(User.id == user_id))
    async with app.state.sessionmaker() as session:
        assert await session.get(Conversation, uuid.UUID(made["id"])) is None
        left = await session.scalars(
            select(Message.id).where(Message.conversation_id == uuid.UUID(made["id"]))
        )
        assert left.all() == []
