"""Helpers that make users, projects and artifacts through the public API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from httpx import AsyncClient, Response

PASSWORD = "correct horse battery"
BRIEF_INPUT = {"name": "Tiny CRM", "idea": "A CRM for plumbers that works offline."}
BRIEF_OUTPUT = {
    "title": "Tiny CRM",
    "summary": "An offline CRM for plumbers.",
    "problem": "Plumbers lose leads on the road.",
    "audience": "Independent plumbers",
    "value_proposition": "Never lose a lead, even without signal.",
    "goals": ["100 paying users in 6 months"],
    "risks": ["Plumbers may not adopt software"],
    "next_steps": ["Interview 10 plumbers"],
}


@dataclass
class Account:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


class Api:
    """Thin conveniences over the HTTP API; every call goes through the real app."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    async def signup(self, name: str = "Test User", email: str | None = None) -> Account:
        email = email or unique_email()
        r = await self.client.post(
            "/api/v1/auth/signup", json={"email": email, "name": name, "password": PASSWORD}
        )
        assert r.status_code == 201, r.text
        body = r.json()
        return Account(id=body["user"]["id"], email=email, token=body["token"])

    async def project(self, who: Account, **fields: Any) -> dict[str, Any]:
        payload = {"name": "Test project", **fields}
        r = await self.client.post("/api/v1/projects", json=payload, headers=who.headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def artifact(self, who: Account, project_id: str, **fields: Any) -> dict[str, Any]:
        payload = {"type": "notes", "name": "VP", "input_data": {"a": 1}, **fields}
        r = await self.client.post(
            f"/api/v1/projects/{project_id}/artifacts", json=payload, headers=who.headers
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def provider(self, who: Account, **fields: Any) -> dict[str, Any]:
        """An OpenAI-compatible provider config; tests swap in a FakeProvider behind it."""
        payload = {
            "provider": "custom",
            "label": "Test provider",
            "api_key": "sk-test-secret-key-0001",
            "base_url": "http://127.0.0.1:9/v1",
            "default_model": "fake-model",
            "is_default": True,
            **fields,
        }
        r = await self.client.post("/api/v1/ai-providers", json=payload, headers=who.headers)
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def organization(self, who: Account, name: str = "Org") -> dict[str, Any]:
        slug = f"org-{uuid.uuid4().hex[:10]}"
        r = await self.client.post(
            "/api/v1/organizations", json={"name": name, "slug": slug}, headers=who.headers
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def add_member(self, owner: Account, org_id: str, member: Account, role: str) -> None:
        r = await self.client.post(
            f"/api/v1/organizations/{org_id}/members",
            json={"email": member.email, "role": role},
            headers=owner.headers,
        )
        assert r.status_code == 201, r.text


def error_code(response: Response) -> str:
    return str(response.json()["error"])


async def set_subscription(
    app: Any,
    *,
    user_id: str | uuid.UUID | None = None,
    organization_id: str | uuid.UUID | None = None,
    **fields: Any,
) -> uuid.UUID:
    """Set fields of a user's or organization's subscription straight in the database:
    the row that counting their work made (accounts/metering.py), else a new one."""
    from sqlalchemy import select

    from atelier.accounts.models import Subscription
    from atelier.core.db import session_scope

    column, owner = (
        (Subscription.user_id, user_id)
        if user_id is not None
        else (Subscription.organization_id, organization_id)
    )
    owner_id = uuid.UUID(str(owner))
    async with session_scope(app.state.sessionmaker) as session:
        row = await session.scalar(select(Subscription).where(column == owner_id))
        if row is None:
            row = Subscription(
                user_id=owner_id if user_id is not None else None,
                organization_id=owner_id if user_id is None else None,
                metadata_={},
            )
            session.add(row)
        for name, value in fields.items():
            setattr(row, name, value)
        await session.flush()
        return row.id


async def set_role(app: Any, who: Account, role: str) -> Account:
    """Give ``who`` an instance role straight in the database. The shared test database
    has accounts before most tests run, so a signed-up test user is a plain USER; this is
    how tests make administrators, moderators and developers. Returns ``who``."""
    from sqlalchemy import update

    from atelier.accounts.models import User, UserRole
    from atelier.core.db import session_scope

    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(
            update(User).where(User.id == uuid.UUID(who.id)).values(role=UserRole(role))
        )
    return who


async def admin(api: Api, app: Any, name: str = "Admin") -> Account:
    """A new account with the ADMIN role."""
    return await set_role(app, await api.signup(name), "ADMIN")
