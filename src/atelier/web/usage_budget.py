"""The budget box of the usage page: what the user's plan allows a month, what is spent,
and when it starts again (the limits ``atelier.ai.budgets`` enforces on generations)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai.budgets import Limit, month_start, plan_limits, spent_this_month, user_plan
from atelier.config import Settings


@dataclass(frozen=True, slots=True)
class Budget:
    plan: str
    limit: Limit
    tokens_used: int
    usd_used: Decimal
    resets: dt.date

    @property
    def tokens_left(self) -> int | None:
        return max(self.limit.tokens - self.tokens_used, 0) if self.limit.tokens else None

    @property
    def usd_left(self) -> Decimal | None:
        return max(self.limit.usd - self.usd_used, Decimal(0)) if self.limit.usd else None


async def monthly_budget(session: AsyncSession, settings: Settings, user: Principal) -> Budget:
    plan = await user_plan(session, user.id)
    limit = plan_limits(settings).get(plan, Limit(0, Decimal(0)))
    spend = await spent_this_month(session, user_id=user.id)
    start = month_start()
    resets = (start + dt.timedelta(days=32)).replace(day=1).date()
    return Budget(plan, limit, spend.tokens, spend.usd, resets)
