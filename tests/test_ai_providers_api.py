"""/ai-providers: configs with encrypted keys, defaults, organization sharing, the test call."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import select

from atelier.ai.models import AIProviderConfig
from atelier.ai.providers.base import ProviderError
from atelier.ai.providers.fake import FakeProvider
from tests.factories import Account, Api, error_code

pytestmark = pytest.mark.anyio

PROVIDERS = "/api/v1/ai-providers"
KEY = "sk-test-secret-key-0001"


def fields(response: Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert error_code(response) == "validation_error"
    return [e["field"] for e in response.json()["detail"]]


async def stored_config(app: Any, config_id: str) -> AIProviderConfig:
    async with app.state.sessionmaker() as session:
        config = await session.scalar(
            select(AIProviderConfig).where(AIProviderConfig.id == uuid.UUID(config_id))
        )
    assert config is not None
    return config


async def org_with(api: Api, owner: Account, **roles: Account) -> str:
    """An organization of `owner` with each keyword argument's account in that role."""
    org = await api.organization(owner)
    for role, member in roles.items():
        await api.add_member(owner, org["id"], member, role.upper())
    return str(org["id"])


# --- create, read, update, delete ---------------------------------------------------------


async def test_crud_round_trip_never_shows_the_key(api: Api, app: Any) -> None:
    ann = await api.signup()
    seen: list[str] = []

    r = await api.client.post(
        PROVIDERS,
        json={
            "provider": "custom",
            "label": "vLLM",
            "api_key": KEY,
            "base_url": "http://127.0.0.1:9/v1",
            "default_model": "qwen",
            "options": {"input_usd_per_mtok": 1.5, "timeout_seconds": 30},
        },
        headers=ann.headers,
    )
    assert r.status_code == 201, r.text
    seen.append(r.text)
    created = r.json()
    assert created["api_key_hint"] == "sk-test…0001"
    assert created["provider"] == "custom" and created["default_model"] == "qwen"
    assert created["base_url"] == "http://127.0.0.1:9/v1"
    assert created["user_id"] == ann.id and created["organization_id"] is None
    assert created["options"] == {"input_usd_per_mtok": 1.5, "timeout_seconds": 30}
    assert created["is_default"] is False
    assert "api_key" not in created and "api_key_encrypted" not in created

    r = await api.client.get(PROVIDERS, headers=ann.headers)
    assert r.status_code == 200, r.text
    seen.append(r.text)
    assert [c["id"] for c in r.json()["items"]] == [created["id"]]

    r = await api.client.get(f"{PROVIDERS}/{created['id']}", headers=ann.headers)
    assert r.status_code == 200, r.text
    seen.append(r.text)
    assert r.json() == created

    new_key = "sk-another-key-9999"
    r = await api.client.patch(
        f"{PROVIDERS}/{created['id']}",
        json={"label": "renamed", "api_key": new_key, "default_model": "llama"},
        headers=ann.headers,
    )
    assert r.status_code == 200, r.text
    seen.append(r.text)
    assert r.json()["label"] == "renamed" and r.json()["default_model"] == "llama"
    assert r.json()["api_key_hint"].endswith("…9999")
    # Unchanged fields stay.
    assert r.json()["base_url"] == created["base_url"]
    assert r.json()["options"] == created["options"]

    for text in seen:
        assert KEY not in text and new_key not in text
        assert "secret-key" not in text and "another-key" not in text

    config = await stored_config(app, created["id"])
    assert config.api_key_encrypted is not None
    assert config.api_key_encrypted != new_key and new_key not in config.api_key_encrypted
    assert KEY not in config.api_key_encrypted
    # It is the new key that is stored, encrypted for its owner.
    cipher = app.state.ai.cipher
    assert cipher.decrypt(config.api_key_encrypted, aad=f"{ann.id}:custom") == new_key

    r = await api.client.delete(f"{PROVIDERS}/{created['id']}", headers=ann.headers)
    assert r.status_code == 204, r.text
    r = await api.client.get(f"{PROVIDERS}/{created['id']}", headers=ann.headers)
    assert r.status_code == 404 and error_code(r) == "ai_provider_not_found"
    r = await api.client.get(PROVIDERS, headers=ann.headers)
    assert r.json()["items"] == []


async def test_the_stored_key_is_not_the_key_in_clear(api: Api, app: Any) -> None:
    ann = await api.signup()
    for kind, extra in (
        ("anthropic", {}),
        ("openai", {}),
        ("custom", {"base_url": "http://127.0.0.1:9/v1", "default_model": "m"}),
    ):
        key = f"sk-{kind}-{uuid.uuid4().hex}"
        r = await api.client.post(
            PROVIDERS,
            json={"provider": kind, "label": kind, "api_key": key, **extra},
            headers=ann.headers,
        )
        assert r.status_code == 201, r.text
        assert key not in r.text
        config = await stored_config(app, r.json()["id"])
        stored = config.api_key_encrypted
        assert stored is not None and stored != key and key not in stored
        assert key[-12:] not in stored  # not even a recognisable piece of it
        assert stored.startswith("v1:")
        assert config.api_key_hint == r.json()["api_key_hint"] != key


async def test_clearing_the_key_removes_it_and_its_hint(api: Api, app: Any) -> None:
    ann = await api.signup()
    config = await api.provider(ann)
    r = await api.client.patch(
        f"{PROVIDERS}/{config['id']}", json={"api_key": None}, headers=ann.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["api_key_hint"] is None
    assert (await stored_config(app, config["id"])).api_key_encrypted is None


async def test_default_models_per_kind(api: Api) -> None:
    ann = await api.signup()
    r = await api.client.post(
        PROVIDERS,
        json={"provider": "anthropic", "label": "A", "api_key": "sk-ant-xxxxxxxxxxxx"},
        headers=ann.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["default_model"]  # filled in for the kind
    assert r.json()["base_url"] is None


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_hosted_kinds_need_a_key(api: Api, kind: str) -> None:
    ann = await api.signup()
    for body in ({}, {"api_key": ""}, {"api_key": None}):
        r = await api.client.post(
            PROVIDERS, json={"provider": kind, "label": "x", **body}, headers=ann.headers
        )
        assert r.status_code == 422, (body, r.text)
        assert error_code(r) == "validation_error"
    r = await api.client.get(PROVIDERS, headers=ann.headers)
    assert r.json()["items"] == []


async def test_custom_needs_base_url_and_default_model(api: Api) -> None:
    ann = await api.signup()
    base = {"provider": "custom", "label": "x"}
    r = await api.client.post(PROVIDERS, json={**base, "default_model": "m"}, headers=ann.headers)
    assert r.status_code == 422 and "base_url" in r.text, r.text
    r = await api.client.post(
        PROVIDERS, json={**base, "base_url": "http://127.0.0.1:9/v1"}, headers=ann.headers
    )
    assert r.status_code == 422 and "default_model" in r.text, r.text
    r = await api.client.post(
        PROVIDERS,
        json={**base, "base_url": "not a url", "default_model": "m"},
        headers=ann.headers,
    )
    assert "body.base_url" in fields(r)
    # A custom server may need no key at all.
    r = await api.client.post(
        PROVIDERS,
        json={**base, "base_url": "http://127.0.0.1:9/v1", "default_model": "m"},
        headers=ann.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["api_key_hint"] is None


async def test_fake_and_unknown_kinds_are_refused(api: Api) -> None:
    ann = await api.signup()
    for kind in ("fake", "nope", ""):
        r = await api.client.post(
            PROVIDERS,
            json={
                "provider": kind,
                "label": "x",
                "api_key": KEY,
                "base_url": "http://127.0.0.1:9/v1",
                "default_model": "m",
            },
            headers=ann.headers,
        )
        assert fields(r) == ["body.provider"], kind


async def test_update_refuses_nulls_and_unknown_fields(api: Api) -> None:
    ann = await api.signup()
    config = await api.provider(ann)
    url = f"{PROVIDERS}/{config['id']}"
    r = await api.client.patch(url, json={"label": None}, headers=ann.headers)
    assert fields(r) == ["body.label"]
    r = await api.client.patch(url, json={"default_model": None}, headers=ann.headers)
    assert fields(r) == ["body.default_model"]
    r = await api.client.patch(url, json={"provider": "openai"}, headers=ann.headers)
    assert fields(r) == ["body.provider"]
    r = await api.client.patch(url, json={"organization_id": None}, headers=ann.headers)
    assert fields(r) == ["body.organization_id"]
    r = await api.client.get(url, headers=ann.headers)
    assert r.json() == config


# --- defaults -------------------------------------------------------------------------------


async def is_default(api: Api, who: Account, config_id: str) -> bool:
    r = await api.client.get(f"{PROVIDERS}/{config_id}", headers=who.headers)
    assert r.status_code == 200, r.text
    return bool(r.json()["is_default"])


async def test_one_default_per_user(api: Api) -> None:
    ann, bob = await api.signup(), await api.signup()
    first = await api.provider(ann, is_default=True)
    bobs = await api.provider(bob, is_default=True)
    second = await api.provider(ann, is_default=True)
    assert second["is_default"] is True
    assert await is_default(api, ann, first["id"]) is False
    assert await is_default(api, ann, second["id"]) is True
    assert await is_default(api, bob, bobs["id"]) is True  # someone else's default stays

    # Through PATCH as well.
    r = await api.client.patch(
        f"{PROVIDERS}/{first['id']}", json={"is_default": True}, headers=ann.headers
    )
    assert r.status_code == 200 and r.json()["is_default"] is True, r.text
    assert await is_default(api, ann, first["id"]) is True
    assert await is_default(api, ann, second["id"]) is False

    # A non-default one added later leaves the default alone.
    third = await api.provider(ann, is_default=False)
    assert third["is_default"] is False
    assert await is_default(api, ann, first["id"]) is True


async def test_making_the_default_the_default_again_keeps_it(api: Api) -> None:
    ann = await api.signup()
    config = await api.provider(ann, is_default=True)
    r = await api.client.patch(
        f"{PROVIDERS}/{config['id']}", json={"is_default": True}, headers=ann.headers
    )
    assert r.status_code == 200 and r.json()["is_default"] is True, r.text
    assert await is_default(api, ann, config["id"]) is True


async def test_unsetting_the_default(api: Api) -> None:
    ann = await api.signup()
    config = await api.provider(ann, is_default=True)
    r = await api.client.patch(
        f"{PROVIDERS}/{config['id']}", json={"is_default": False}, headers=ann.headers
    )
    assert r.status_code == 200 and r.json()["is_default"] is False, r.text
    assert await is_default(api, ann, config["id"]) is False


# --- organization sharing ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["OWNER", "ADMIN"])
async def test_managers_share_a_provider_with_their_organization(api: Api, role: str) -> None:
    owner, manager, member, stranger = (
        await api.signup(),
        await api.signup(),
        await api.signup(),
        await api.signup(),
    )
    org_id = await org_with(api, owner, admin=manager, member=member)
    sharer = owner if role == "OWNER" else manager
    shared = await api.provider(sharer, organization_id=org_id, is_default=False)
    assert shared["organization_id"] == org_id and shared["user_id"] == sharer.id

    url = f"{PROVIDERS}/{shared['id']}"
    # Members see it (in the list, too), without the key.
    for who in {owner.id: owner, manager.id: manager, member.id: member}.values():
        r = await api.client.get(url, headers=who.headers)
        assert r.status_code == 200, r.text
        assert r.json()["api_key_hint"] == shared["api_key_hint"] and KEY not in r.text
        listed = (await api.client.get(PROVIDERS, headers=who.headers)).json()["items"]
        assert shared["id"] in [c["id"] for c in listed]
    # ...but only the person who added it changes or removes it.
    others = [a for a in (owner, manager, member) if a.id != sharer.id]
    for who in others:
        r = await api.client.patch(url, json={"label": "mine now"}, headers=who.headers)
        assert r.status_code == 403 and error_code(r) == "forbidden", r.text
        r = await api.client.delete(url, headers=who.headers)
        assert r.status_code == 403 and error_code(r) == "forbidden", r.text
    # A stranger learns nothing.
    for method, body in (("GET", None), ("PATCH", {"label": "x"}), ("DELETE", None)):
        r = await api.client.request(method, url, json=body, headers=stranger.headers)
        assert r.status_code == 404 and error_code(r) == "ai_provider_not_found", method
    r = await api.client.post(f"{url}/test", headers=stranger.headers)
    assert r.status_code == 404 and error_code(r) == "ai_provider_not_found"
    listed = (await api.client.get(PROVIDERS, headers=stranger.headers)).json()["items"]
    assert listed == []

    r = await api.client.get(url, headers=sharer.headers)
    assert r.json()["label"] == shared["label"]
    r = await api.client.patch(url, json={"label": "shared"}, headers=sharer.headers)
    assert r.status_code == 200 and r.json()["label"] == "shared", r.text
    r = await api.client.delete(url, headers=sharer.headers)
    assert r.status_code == 204, r.text
    r = await api.client.get(url, headers=member.headers)
    assert r.status_code == 404


@pytest.mark.parametrize("role", ["MEMBER", "VIEWER"])
async def test_members_cannot_share(api: Api, role: str) -> None:
    owner, member = await api.signup(), await api.signup()
    org_id = await org_with(api, owner, **{role.lower(): member})
    r = await api.client.post(
        PROVIDERS,
        json={
            "provider": "openai",
            "label": "x",
            "api_key": KEY,
            "organization_id": org_id,
        },
        headers=member.headers,
    )
    assert r.status_code == 403 and error_code(r) == "forbidden", r.text
    assert (await api.client.get(PROVIDERS, headers=owner.headers)).json()["items"] == []


async def test_sharing_with_an_organization_you_are_not_in(api: Api) -> None:
    owner, outsider = await api.signup(), await api.signup()
    org_id = await org_with(api, owner)
    for target in (org_id, str(uuid.uuid4())):
        r = await api.client.post(
            PROVIDERS,
            json={"provider": "openai", "label": "x", "api_key": KEY, "organization_id": target},
            headers=outsider.headers,
        )
        assert fields(r) == ["body.organization_id"]
    assert (await api.client.get(PROVIDERS, headers=owner.headers)).json()["items"] == []


async def test_a_strangers_private_config_is_invisible(api: Api) -> None:
    ann, bob = await api.signup(), await api.signup()
    config = await api.provider(ann)
    url = f"{PROVIDERS}/{config['id']}"
    for method, body in (("GET", None), ("PATCH", {"is_default": True}), ("DELETE", None)):
        r = await api.client.request(method, url, json=body, headers=bob.headers)
        assert r.status_code == 404 and error_code(r) == "ai_provider_not_found", method
    r = await api.client.post(f"{url}/test", headers=bob.headers)
    assert r.status_code == 404
    r = await api.client.get(url, headers=ann.headers)
    assert r.json() == config


async def test_unauthenticated(api: Api) -> None:
    ann = await api.signup()
    config = await api.provider(ann)
    for method, url in (
        ("GET", PROVIDERS),
        ("POST", PROVIDERS),
        ("GET", f"{PROVIDERS}/{config['id']}"),
        ("POST", f"{PROVIDERS}/{config['id']}/test"),
    ):
        r = await api.client.request(method, url)
        assert r.status_code == 401, (method, url, r.text)


# --- the test call ------------------------------------------------------------------------------


async def test_the_test_call_succeeds(api: Api, fake_ai: FakeProvider) -> None:
    ann = await api.signup()
    config = await api.provider(ann)
    fake_ai.push('{"ok": true}')
    r = await api.client.post(f"{PROVIDERS}/{config['id']}/test", headers=ann.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True and body["error"] is None
    assert body["model"] == "fake-model" and body["output"] == '{"ok": true}'
    assert body["duration_ms"] >= 0
    (request,) = fake_ai.requests
    assert request.json_schema is not None and request.json_schema["required"] == ["ok"]


async def test_the_test_call_reports_a_failure_without_the_key(
    api: Api, fake_ai: FakeProvider
) -> None:
    ann = await api.signup()
    config = await api.provider(ann)
    # A provider that echoes the key back in its error must not make us show it.
    fake_ai.push(
        ProviderError(f"Incorrect API key provided: {KEY}", status=401, code="provider_auth")
    )
    r = await api.client.post(f"{PROVIDERS}/{config['id']}/test", headers=ann.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is False and body["error"] == "provider_auth"
    assert body["message"] and "Incorrect API key" in body["message"]
    assert KEY not in r.text


async def test_members_may_test_a_shared_provider(api: Api, fake_ai: FakeProvider) -> None:
    owner, member = await api.signup(), await api.signup()
    org_id = await org_with(api, owner, member=member)
    shared = await api.provider(owner, organization_id=org_id)
    fake_ai.push('{"ok": true}')
    r = await api.client.post(f"{PROVIDERS}/{shared['id']}/test", headers=member.headers)
    assert r.status_code == 200 and r.json()["ok"] is True, r.text


async def test_a_changed_config_gets_a_new_client_and_the_old_one_is_closed() -> None:
    from atelier.ai.providers.base import ProviderSettings
    from atelier.ai.runtime import ProviderPool

    closed: list[FakeProvider] = []

    class Closing(FakeProvider):
        async def aclose(self) -> None:
            closed.append(self)

    pool = ProviderPool(factory=lambda _s: Closing(), retire_after_seconds=0.0)
    settings = ProviderSettings(kind="custom", default_model="m")
    first = pool.get(("config", "c1", "t1"), settings)
    assert pool.get(("config", "c1", "t1"), settings) is first  # reused while unchanged
    other = pool.get(("config", "c2", "t1"), settings)
    second = pool.get(("config", "c1", "t2"), settings)  # c1 was edited
    assert second is not first
    await asyncio.sleep(0.05)
    assert closed == [first]  # closed once the calls that used it had time to end
    await pool.aclose()
    assert set(map(id, closed)) == {id(first), id(second), id(other)}


# --- the project's own provider -------------------------------------------------------------


async def test_a_project_chooses_its_provider(api: Api, app: Any, fake_ai: FakeProvider) -> None:
    from tests.conftest import run_jobs
    from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT

    ann, bob = await api.signup(), await api.signup()
    default = await api.provider(ann, label="Everyday")
    special = await api.provider(ann, label="For this project", is_default=False)
    strangers = await api.provider(bob)
    project = await api.project(ann)
    url = f"/api/v1/projects/{project['id']}"
    assert project["ai_provider_id"] is None

    # Another user's provider, or none at all, is refused naming the field.
    for wrong in (strangers["id"], str(uuid.uuid4())):
        r = await api.client.patch(url, json={"ai_provider_id": wrong}, headers=ann.headers)
        assert fields(r) == ["body.ai_provider_id"]
    r = await api.client.patch(url, json={"ai_provider_id": special["id"]}, headers=ann.headers)
    assert r.status_code == 200 and r.json()["ai_provider_id"] == special["id"]

    # Generations of the project use it, not the user's default.
    fake_ai.push(json.dumps(BRIEF_OUTPUT))
    r = await api.client.post(
        f"{url}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT, "generate": True},
        headers=ann.headers,
    )
    assert r.status_code == 201, r.text
    await run_jobs(app, r.json()["job"]["id"])
    r = await api.client.get(
        f"/api/v1/ai-generations?project_id={project['id']}", headers=ann.headers
    )
    (row,) = r.json()["items"]
    assert row["provider_id"] == special["id"] != default["id"]

    # Null goes back to the user's default.
    r = await api.client.patch(url, json={"ai_provider_id": None}, headers=ann.headers)
    assert r.status_code == 200 and r.json()["ai_provider_id"] is None
