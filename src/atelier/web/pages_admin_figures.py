"""The instance's figures for its administrators: ``GET /api/v1/admin/figures``, also shown
on the console's first page (``pages_admin``).

They count rows of every domain (users, projects, AI calls, uploads, jobs). The accounts
domain, where the rest of the console lives, sits below all of those in the layers
contract (``.importlinter``), so the query lives in this layer, which may read them all.
Its API route is here too, next to the query it serves, guarded like the rest of the
console (``accounts.roles.require_admin``).
"""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Depends
from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import admin_service
from atelier.accounts.admin_endpoints import ADMIN_ONLY
from atelier.accounts.metering import shown, windows
from atelier.accounts.models import Subscription, SubscriptionUsage
from atelier.accounts.pin_gate import require_unlocked
from atelier.accounts.roles import require_admin
from atelier.core.deps import DB
from atelier.core.schemas import OutputModel
from atelier.jobs.models import Job, JobStatus
from atelier.projects.models import Project
from atelier.uploads.models import Upload, UploadStatus


class InstanceFigures(OutputModel):
    users: int = Field(description="every account, active or not")
    active_users: int
    organizations: int
    projects: int = Field(description="projects not in anyone's trash")
    generations_this_month: int = Field(description="AI calls since the 1st of this month (UTC)")
    tokens_this_month: int
    cost_this_month_usd: Decimal = Field(description="their estimated cost, in US dollars")
    uploads: int = Field(description="uploaded files whose bytes are still stored")
    storage_bytes: int = Field(description="what those files take")
    jobs_queued: int
    jobs_running: int
    jobs_failed: int


async def instance_figures(session: AsyncSession) -> InstanceFigures:
    users, active = await admin_service.count_users(session)
    projects = await session.scalar(
        select(func.count()).select_from(Project).where(Project.deleted_at.is_(None))
    )
    # The usage counters (accounts/metering.py) have every call once in its user's row for
    # the month: a few rows to add up instead of the month's audit rows. Like budgets, they
    # keep calls whose audit rows went with a deleted project: they were made all the same.
    month = dict(
        (
            await session.execute(
                select(
                    SubscriptionUsage.metric, func.coalesce(func.sum(SubscriptionUsage.value), 0)
                )
                .join(Subscription, Subscription.id == SubscriptionUsage.subscription_id)
                .where(
                    Subscription.user_id.is_not(None),
                    SubscriptionUsage.period == windows()["monthly"],
                    SubscriptionUsage.metric.in_(("ai_calls", "ai_tokens", "ai_cost_usd")),
                )
                .group_by(SubscriptionUsage.metric)
            )
        ).all()
    )
    stored = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Upload.size), 0)).where(
                Upload.status != UploadStatus.DELETED
            )
        )
    ).one()
    jobs = dict(
        (
            await session.execute(
                select(Job.status, func.count())
                .where(Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.FAILED)))
                .group_by(Job.status)
            )
        ).all()
    )
    return InstanceFigures(
        users=users,
        active_users=active,
        organizations=await admin_service.count_organizations(session),
        projects=int(projects or 0),
        generations_this_month=int(month.get("ai_calls", 0)),
        tokens_this_month=int(month.get("ai_tokens", 0)),
        cost_this_month_usd=Decimal(str(shown("ai_cost_usd", int(month.get("ai_cost_usd", 0))))),
        uploads=int(stored[0]),
        storage_bytes=int(stored[1]),
        jobs_queued=int(jobs.get(JobStatus.QUEUED, 0)),
        jobs_running=int(jobs.get(JobStatus.RUNNING, 0)),
        jobs_failed=int(jobs.get(JobStatus.FAILED, 0)),
    )


api_router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin), Depends(require_unlocked)],
    responses=ADMIN_ONLY,
)


@api_router.get("/figures", response_model=InstanceFigures)
async def figures(session: DB) -> InstanceFigures:
    """How much the instance holds and does: users, organizations, projects, this month's AI
    calls and their cost, stored files, and jobs waiting, running or failed."""
    return await instance_figures(session)
