"""The instance's figures count what is there: each row this test makes moves its figure
by exactly that much (the shared database holds other tests' rows, so differences are
compared, not totals)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest

from atelier.ai.models import AIGeneration, GenerationStatus
from atelier.core.db import session_scope, utcnow
from atelier.jobs.models import Job, JobStatus
from atelier.uploads.models import Upload, UploadStatus
from tests.factories import Account, Api, admin

pytestmark = pytest.mark.anyio

FIGURES = "/api/v1/admin/figures"


async def figures(api: Api, boss: Account) -> dict[str, Any]:
    r = await api.client.get(FIGURES, headers=boss.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def upload(user_id: uuid.UUID, size: int, status: UploadStatus) -> Upload:
    name = f"{uuid.uuid4().hex}.txt"
    return Upload(
        filename=name,
        original_name=name,
        path=f"uploads/{name}",
        size=size,
        mime_type="text/plain",
        sha256="0" * 64,
        status=status,
        user_id=user_id,
    )


def generation(user_id: uuid.UUID, tokens: int, cost: str, when: dt.datetime) -> AIGeneration:
    return AIGeneration(
        user_id=user_id,
        provider="custom",
        model="m",
        prompt_template="brief@1",
        input_tokens=tokens,
        output_tokens=0,
        total_tokens=tokens,
        estimated_cost=Decimal(cost),
        status=GenerationStatus.SUCCESS,
        created_at=when,
    )


async def test_figures_move_with_the_rows_made(api: Api, app: Any) -> None:
    boss = await admin(api, app)
    before = await figures(api, boss)

    alice = await api.signup("Alice")
    bob = await api.signup("Bob")
    r = await api.client.patch(
        f"/api/v1/admin/users/{bob.id}", json={"is_active": False}, headers=boss.headers
    )
    assert r.status_code == 200
    await api.organization(alice)
    await api.project(alice)
    doomed = await api.project(alice, name="Trash")
    r = await api.client.delete(f"/api/v1/projects/{doomed['id']}", headers=alice.headers)
    assert r.status_code in (200, 204), r.text

    a = uuid.UUID(alice.id)
    now = utcnow()
    last_month = now.replace(day=1) - dt.timedelta(days=2)
    async with session_scope(app.state.sessionmaker) as session:
        session.add_all(
            [
                upload(a, 1000, UploadStatus.COMPLETED),
                upload(a, 234, UploadStatus.PENDING),
                upload(a, 99_999, UploadStatus.DELETED),  # its bytes are gone
                generation(a, 100, "0.25", now),
                generation(a, 50, "0.125", now),
                generation(a, 7000, "9", last_month),  # not this month
                Job(user_id=a, kind="test", status=JobStatus.QUEUED),
                Job(user_id=a, kind="test", status=JobStatus.QUEUED),
                Job(user_id=a, kind="test", status=JobStatus.RUNNING),
                Job(user_id=a, kind="test", status=JobStatus.FAILED),
                Job(user_id=a, kind="test", status=JobStatus.SUCCEEDED),
            ]
        )

    after = await figures(api, boss)
    moved = {
        name: (Decimal(after[name]) - Decimal(before[name]))
        if name == "cost_this_month_usd"
        else after[name] - before[name]
        for name in after
    }
    assert moved == {
        "users": 2,
        "active_users": 1,
        "organizations": 1,
        "projects": 1,
        "generations_this_month": 2,
        "tokens_this_month": 150,
        "cost_this_month_usd": Decimal("0.375"),
        "uploads": 2,
        "storage_bytes": 1234,
        "jobs_queued": 2,
        "jobs_running": 1,
        "jobs_failed": 1,
    }
    assert after["users"] >= after["active_users"] >= 1
