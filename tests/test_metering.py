"""Metered usage on both back ends: the counters in ``subscription_usage`` equal what was
done after a mix of work, calls count in the windows of their own time, and every limit
of the plan catalogue refuses at its edge with 402 naming the metric, the period and the
reset, leaving nothing behind."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from atelier.accounts import metering
from atelier.accounts.metering import Owner, windows
from atelier.accounts.models import Subscription
from atelier.accounts.plans import METRICS
from atelier.ai.models import AIGeneration
from atelier.ai.providers.fake import FakeProvider
from atelier.conversations.models import Conversation, Message, MessageRole
from atelier.core.db import session_scope, utcnow
from atelier.jobs.models import Job
from atelier.packs.general.brief import BriefTool
from atelier.projects.models import Project
from atelier.uploads.models import Upload
from tests.conftest import run_jobs
from tests.factories import BRIEF_OUTPUT, Account, Api, error_code, set_subscription
from tests.test_budgets_usage import add_usage, brief, generate, limits  # noqa: F401
from tests.uploads.helpers import send, upload

pytestmark = pytest.mark.anyio

PERIODS = ("daily", "monthly", "yearly")


@pytest.fixture
def plans(app: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the plan catalogue for one test: ``plans(FREE={"projects": {"daily": 2}})``."""

    def set_plans(**catalogue: dict[str, dict[str, float]]) -> None:
        monkeypatch.setattr(app.state.settings, "plans", json.dumps(catalogue))

    return set_plans


async def counters(app: Any, kind: Any, owner: str) -> dict[tuple[str, str], int]:
    async with session_scope(app.state.sessionmaker) as session:
        found = await metering.usage(session, Owner(kind, uuid.UUID(owner)), METRICS)
    return dict(found)


async def audit_sums(app: Any, column: Any, owner: str) -> dict[str, int]:
    async with session_scope(app.state.sessionmaker) as session:
        tokens, cost, calls = (
            await session.execute(
                select(
                    func.coalesce(func.sum(AIGeneration.total_tokens), 0),
                    func.coalesce(func.sum(AIGeneration.estimated_cost), 0),
                    func.count(),
                ).where(column == uuid.UUID(owner))
            )
        ).one()
    return {
        "ai_tokens": int(tokens),
        "ai_cost_usd": metering.stored("ai_cost_usd", Decimal(str(cost))),
        "ai_calls": int(calls),
    }


async def count(app: Any, statement: Any) -> int:
    async with session_scope(app.state.sessionmaker) as session:
        return int(await session.scalar(statement) or 0)


async def chat(api: Api, who: Account, **fields: Any) -> str:
    r = await api.client.post(
        "/api/v1/conversations", json={"title": "T", **fields}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def say(api: Api, who: Account, chat_id: str, content: str = "Hi") -> Any:
    return await api.client.post(
        f"/api/v1/conversations/{chat_id}/messages", json={"content": content}, headers=who.headers
    )


async def test_counters_equal_what_was_done_after_a_mix_of_work(
    api: Api, app: Any, fake_ai: FakeProvider
) -> None:
    owner = await api.signup()
    org = await api.organization(owner)
    await api.provider(owner, options={"input_usd_per_mtok": 3, "output_usd_per_mtok": 15})
    in_org = await api.project(owner, organization_id=org["id"])
    mine = await api.project(owner)
    # Generations: one repaired answer makes two calls for one generation.
    fake_ai.push(BRIEF_OUTPUT, "not json", BRIEF_OUTPUT, BRIEF_OUTPUT)
    arts = [await brief(api, owner, p["id"]) for p in (in_org, in_org, mine)]
    jobs = [(await generate(api, owner, a["id"])).json()["id"] for a in arts]
    await run_jobs(app, *jobs)
    # Chat: a message in the organization's project, one outside it.
    for project_id in (in_org["id"], None):
        chat_id = await chat(api, owner, project_id=project_id)
        fake_ai.push("A reply of a few words.")
        r = await say(api, owner, chat_id)
        assert r.status_code == 202, r.text
        await run_jobs(app, r.json()["reply_job"]["id"])
    # Uploads: one in the organization's project, one of the user's own.
    await upload(api, owner, "a.txt", b"first file\n", project_id=in_org["id"])
    await upload(api, owner, "b.txt", b"second, longer file\n")

    mine_now = await counters(app, "user", owner.id)
    org_now = await counters(app, "organization", org["id"])
    user_id, org_id = uuid.UUID(owner.id), uuid.UUID(org["id"])
    expected_user = {
        **await audit_sums(app, AIGeneration.user_id, owner.id),
        "generations": await count(
            app, select(func.count()).where(Job.user_id == user_id, Job.kind == "generate")
        ),
        "chat_messages": await count(
            app,
            select(func.count())
            .select_from(Message)
            .join(Conversation)
            .where(Conversation.user_id == user_id, Message.role == MessageRole.USER),
        ),
        "upload_bytes": await count(
            app, select(func.sum(Upload.size)).where(Upload.user_id == user_id)
        ),
        "projects": await count(app, select(func.count()).where(Project.owner_id == user_id)),
    }
    expected_org = {
        **await audit_sums(app, AIGeneration.organization_id, org["id"]),
        "generations": 2,
        "chat_messages": 1,
        "upload_bytes": len(b"first file\n"),
        "projects": 1,
    }
    assert expected_user["generations"] == 3 and expected_user["chat_messages"] == 2
    assert expected_user["ai_calls"] >= 6 and expected_user["ai_cost_usd"] > 0
    assert 0 < expected_org["ai_tokens"] < expected_user["ai_tokens"]
    for found, expected in ((mine_now, expected_user), (org_now, expected_org)):
        for metric, value in expected.items():
            for period in PERIODS:
                assert found[(metric, period)] == value, (metric, period)
        assert found[("analyses", "monthly")] == 0
    assert org_id != user_id


async def test_calls_count_in_the_windows_they_were_made_in(api: Api, app: Any) -> None:
    ann = await api.signup()
    now = utcnow()
    last_month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(
        seconds=1
    )
    await add_usage(app, ann, tokens=70, cost="0.5", when=last_month)
    await add_usage(app, ann, tokens=30, cost="0.25")
    await add_usage(app, ann, tokens=5, cost="0.125")
    found = await counters(app, "user", ann.id)
    assert found[("ai_tokens", "monthly")] == 35 and found[("ai_tokens", "daily")] == 35
    assert found[("ai_cost_usd", "monthly")] == 375_000 and found[("ai_calls", "monthly")] == 2
    assert found[("ai_tokens", "yearly")] == (105 if last_month.year == now.year else 35)
    async with session_scope(app.state.sessionmaker) as session:
        earlier = await metering.usage(
            session, Owner("user", uuid.UUID(ann.id)), ["ai_tokens"], now=last_month
        )
    assert earlier[("ai_tokens", "monthly")] == 70 and earlier[("ai_tokens", "daily")] == 70


async def test_deleting_audit_rows_does_not_refund_the_budget(
    api: Api,
    app: Any,
    fake_ai: FakeProvider,
    limits: Any,  # noqa: F811
) -> None:
    """Those calls were paid for: removing their rows (a project's go with it) must not
    make room for more."""
    limits(FREE="1000:0")
    ann = await api.signup()
    await api.provider(ann)
    art = await brief(api, ann, (await api.project(ann))["id"])
    await add_usage(app, ann, tokens=1000)
    async with session_scope(app.state.sessionmaker) as session:
        await session.execute(delete(AIGeneration).where(AIGeneration.user_id == uuid.UUID(ann.id)))
    r = await generate(api, ann, art["id"])
    assert r.status_code == 402 and error_code(r) == "budget_exceeded", r.text
    assert fake_ai.requests == []


def refused(response: Any, metric: str, period: str) -> str:
    assert response.status_code == 402, response.text
    assert error_code(response) == "budget_exceeded"
    detail = str(response.json()["detail"])
    resets = metering.resets_at(period)  # type: ignore[arg-type]
    assert f"{period} limit on {metric}" in detail, detail
    assert f"starts again on {resets:%Y-%m-%d}" in detail, detail
    return detail


async def test_projects_are_refused_at_the_edge(api: Api, app: Any, plans: Any) -> None:
    plans(FREE={"projects": {"daily": 2}})
    me = await api.signup()
    for _ in range(2):
        await api.project(me)
    r = await api.client.post("/api/v1/projects", json={"name": "Third"}, headers=me.headers)
    detail = refused(r, "projects", "daily")
    assert "2 of 2 projects used today, and this needs 1 more" in detail
    assert await count(app, select(func.count()).where(Project.owner_id == uuid.UUID(me.id))) == 2
    assert (await counters(app, "user", me.id))[("projects", "daily")] == 2


async def test_an_organizations_own_plan_limits_its_projects(
    api: Api, app: Any, plans: Any
) -> None:
    plans(FREE={"projects": {"monthly": 1}}, ENTERPRISE={})
    boss = await api.signup()
    org = await api.organization(boss)
    # The owner's own plan would allow more; the organization's (FREE on trial) does not.
    await set_plan(app, boss, "ENTERPRISE")
    await api.project(boss, organization_id=org["id"])
    r = await api.client.post(
        "/api/v1/projects",
        json={"name": "Second", "organization_id": org["id"]},
        headers=boss.headers,
    )
    assert "the organization's FREE plan" in refused(r, "projects", "monthly")
    await api.project(boss)  # outside the organization: only the user's plan counts


async def set_plan(app: Any, who: Account, plan: str) -> None:
    await set_subscription(app, user_id=who.id, plan=plan)


async def test_chat_messages_are_refused_at_the_edge(
    api: Api, app: Any, fake_ai: FakeProvider, plans: Any
) -> None:
    plans(FREE={"chat_messages": {"daily": 1}})
    me = await api.signup()
    await api.provider(me)
    chat_id = await chat(api, me)
    fake_ai.push("Hello.")
    r = await say(api, me, chat_id)
    assert r.status_code == 202, r.text
    await run_jobs(app, r.json()["reply_job"]["id"])
    r = await say(api, me, chat_id, "Again")
    assert "1 of 1 messages used today" in refused(r, "chat_messages", "daily")
    detail = await api.client.get(f"/api/v1/conversations/{chat_id}", headers=me.headers)
    users = [m for m in detail.json()["messages"] if m["role"] == "USER"]
    assert [m["content"] for m in users] == ["Hi"]


async def test_generations_and_analyses_are_refused_at_the_edge(
    api: Api, app: Any, fake_ai: FakeProvider, plans: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans(FREE={"generations": {"monthly": 3}, "analyses": {"yearly": 1}})
    me = await api.signup()
    await api.provider(me)
    project = await api.project(me)
    arts = [await brief(api, me, project["id"]) for _ in range(4)]
    fake_ai.push(BRIEF_OUTPUT, BRIEF_OUTPUT, BRIEF_OUTPUT)
    # A tool its pack declares an analysis counts against both.
    monkeypatch.setattr(BriefTool, "meters", ("analyses",))
    await run_jobs(app, (await generate(api, me, arts[0]["id"])).json()["id"])
    r = await generate(api, me, arts[1]["id"])
    assert "1 of 1 analyses used this year" in refused(r, "analyses", "yearly")
    monkeypatch.setattr(BriefTool, "meters", ())
    for art in arts[1:3]:
        await run_jobs(app, (await generate(api, me, art["id"])).json()["id"])
    r = await generate(api, me, arts[3]["id"])
    assert "3 of 3 generations used this month" in refused(r, "generations", "monthly")
    found = await counters(app, "user", me.id)
    assert found[("generations", "monthly")] == 3 and found[("analyses", "yearly")] == 1
    jobs = await count(app, select(func.count()).where(Job.user_id == uuid.UUID(me.id)))
    assert jobs == 3


async def test_ai_calls_are_refused_once_used_up(
    api: Api, app: Any, fake_ai: FakeProvider, plans: Any
) -> None:
    plans(FREE={"ai_calls": {"daily": 3}})
    me = await api.signup()
    await api.provider(me)
    art = await brief(api, me, (await api.project(me))["id"])
    for _ in range(3):
        await add_usage(app, me, tokens=1)
    r = await generate(api, me, art["id"])
    assert "3 of 3 AI calls used today" in refused(r, "ai_calls", "daily")
    assert fake_ai.requests == []


async def test_uploads_are_refused_at_the_edge_and_kept_nowhere(
    api: Api, app: Any, plans: Any
) -> None:
    plans(FREE={"upload_bytes": {"monthly": 20}})
    me = await api.signup()
    await upload(api, me, "a.txt", b"x" * 15)
    r = await send(api, me, "b.txt", b"y" * 6, content_type="text/plain")
    detail = refused(r, "upload_bytes", "monthly")
    assert "15 of 20 bytes used this month, and this needs 6 more" in detail
    await upload(api, me, "c.txt", b"z" * 5)  # exactly to the limit
    rows = await count(app, select(func.count()).where(Upload.user_id == uuid.UUID(me.id)))
    assert rows == 2
    assert (await counters(app, "user", me.id))[("upload_bytes", "monthly")] == 20


async def test_a_subscription_is_made_on_first_count_with_the_organizations_plan(
    api: Api, app: Any
) -> None:
    boss = await api.signup()
    org = await api.organization(boss)
    user_id, org_id = uuid.UUID(boss.id), uuid.UUID(org["id"])
    async with session_scope(app.state.sessionmaker) as session:
        before = await session.scalar(
            select(func.count()).where(Subscription.organization_id == org_id)
        )
    assert before == 0
    await api.project(boss, organization_id=org["id"])
    async with session_scope(app.state.sessionmaker) as session:
        mine = await session.scalar(select(Subscription).where(Subscription.user_id == user_id))
        theirs = await session.scalar(
            select(Subscription).where(Subscription.organization_id == org_id)
        )
    assert mine is not None and mine.plan == "FREE" and mine.status == "ACTIVE"
    assert theirs is not None
    assert (theirs.plan, theirs.status) == (org["subscription_tier"], org["subscription_status"])
    assert windows()["monthly"] == f"{utcnow():%Y-%m}"


async def test_two_requests_for_the_last_unit_do_not_both_get_it(
    api: Api, app: Any, plans: Any
) -> None:
    """Counted first, checked after: the counter row stays with the first transaction
    until it ends, so the second sees the unit taken."""
    plans(FREE={"projects": {"daily": 3}})
    me = await api.signup()
    await api.project(me)
    await api.project(me)
    answers = await asyncio.gather(
        *(
            api.client.post("/api/v1/projects", json={"name": f"Race {n}"}, headers=me.headers)
            for n in range(4)
        )
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201, 402, 402, 402], [r.text for r in answers]
    assert await count(app, select(func.count()).where(Project.owner_id == uuid.UUID(me.id))) == 3
    assert (await counters(app, "user", me.id))[("projects", "daily")] == 3


async def test_a_refusal_caught_by_its_caller_leaves_no_count(
    api: Api, app: Any, plans: Any
) -> None:
    """The web forms catch a 402 to show it and still commit their session: the amount
    that was counted to test the limit is taken back before the refusal."""
    from atelier.accounts.limits import BudgetExceeded, charge

    plans(FREE={"chat_messages": {"daily": 1}})
    me = await api.signup()
    async with session_scope(app.state.sessionmaker) as session:
        await charge(
            session, user_id=uuid.UUID(me.id), organization_id=None, amounts={"chat_messages": 1}
        )
        with pytest.raises(BudgetExceeded, match="chat_messages"):
            await charge(
                session,
                user_id=uuid.UUID(me.id),
                organization_id=None,
                amounts={"chat_messages": 1},
            )
    found = await counters(app, "user", me.id)
    assert [found[("chat_messages", p)] for p in PERIODS] == [1, 1, 1]


async def test_an_upload_that_loses_the_race_for_the_last_bytes_is_not_kept(
    api: Api, app: Any, plans: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The allowance is checked before the file is stored and counted with its row; when
    another upload took the room in between, the stored file is removed again."""
    from atelier.uploads import accept

    plans(FREE={"upload_bytes": {"monthly": 20}})
    me = await api.signup()
    await upload(api, me, "a.txt", b"x" * 15)

    async def passes(*_args: Any, **_kwargs: Any) -> None:
        return None  # as if the other upload had not been counted yet

    deleted: list[str] = []
    storage = app.state.storage
    real_delete = storage.delete

    def delete_spy(key: str) -> None:
        deleted.append(key)
        real_delete(key)

    # Only the upload path's early check lets it through; the count at the row is real.
    monkeypatch.setattr(
        accept, "limits", SimpleNamespace(check=passes, charge=accept.limits.charge)
    )
    monkeypatch.setattr(storage, "delete", delete_spy)
    r = await send(api, me, "b.txt", b"y" * 6, content_type="text/plain")
    refused(r, "upload_bytes", "monthly")
    assert len(deleted) == 1 and deleted[0].endswith("original")
    rows = await count(app, select(func.count()).where(Upload.user_id == uuid.UUID(me.id)))
    assert rows == 1
    assert (await counters(app, "user", me.id))[("upload_bytes", "monthly")] == 15
