"""Each metric's use against the plan's limits, for ``GET /subscription`` and the usage
page: every limit the plan sets, and this month's use of the metrics it leaves free."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts import metering
from atelier.accounts.metering import Owner
from atelier.accounts.plans import METRICS, PERIODS, Period, limits_of
from atelier.config import Settings
from atelier.core.db import utcnow


@dataclass(frozen=True, slots=True)
class LimitUse:
    metric: str
    period: Period
    limit: float | None  # None: no limit on this plan
    used: float
    resets_at: dt.datetime
    applies_to: str

    @property
    def remaining(self) -> float | None:
        return max(self.limit - self.used, 0.0) if self.limit else None

    @property
    def share(self) -> float:
        """How much of the limit is used, 0 to 1 (0 without a limit)."""
        return min(self.used / self.limit, 1.0) if self.limit else 0.0


async def usage_report(
    session: AsyncSession, settings: Settings, owner: Owner, plan: str
) -> list[LimitUse]:
    now = utcnow()
    limits = limits_of(settings, plan)
    used = await metering.usage(session, owner, METRICS, now=now)
    found = []
    for metric, applies_to in METRICS.items():
        caps = limits.get(metric, {})
        periods: list[Period] = [p for p in PERIODS if caps.get(p)] or ["monthly"]
        for period in periods:
            found.append(
                LimitUse(
                    metric=metric,
                    period=period,
                    limit=caps.get(period) or None,
                    used=metering.shown(metric, used[(metric, period)]),
                    resets_at=metering.resets_at(period, now),
                    applies_to=applies_to,
                )
            )
    return found
