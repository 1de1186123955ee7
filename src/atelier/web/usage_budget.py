"""The limits box of the usage page: each limit of the user's plan with a meter, what
it applies to and when it resets (the limits ``atelier.accounts.limits`` enforces)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.limits import user_plan
from atelier.accounts.metering import Owner
from atelier.accounts.principal import Principal
from atelier.accounts.usage_report import LimitUse, usage_report
from atelier.config import Settings

LABELS = {
    "ai_tokens": "AI tokens",
    "ai_cost_usd": "AI cost",
    "ai_calls": "AI calls",
    "generations": "Generations",
    "analyses": "Analyses",
    "chat_messages": "Chat messages",
    "upload_bytes": "Uploads",
    "projects": "Projects",
}
PERIOD_WORDS = {"daily": "today", "monthly": "this month", "yearly": "this year"}


@dataclass(frozen=True, slots=True)
class PlanUsage:
    plan: str
    limited: list[LimitUse]  # what the plan limits, each with a meter
    free: list[LimitUse]  # this month's use of what it leaves free


async def plan_usage(session: AsyncSession, settings: Settings, user: Principal) -> PlanUsage:
    plan = await user_plan(session, user.id)
    uses = await usage_report(session, settings, Owner("user", user.id), plan)
    return PlanUsage(
        plan=plan,
        limited=[use for use in uses if use.limit],
        free=[use for use in uses if not use.limit],
    )
