"""The limits every AI call is checked against (accounts/limits.py does the work).

Checked before any provider call (when a generation or chat reply is requested and
again when its job starts), so work that would go over is refused with 402 and costs
nothing. The AI metrics (tokens, dollars, calls) are known only after a call, so a call
is refused once one is used up; what a request adds for sure (a generation, a chat
message) is checked with that amount added.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.limits import (
    BudgetExceeded,
    check,
    effective_plan,
    organization_plan,
    user_plan,
)
from atelier.accounts.metering import owners_of
from atelier.config import Settings

__all__ = ["BudgetExceeded", "check_budget", "effective_plan", "organization_plan", "user_plan"]


async def check_budget(
    session: AsyncSession,
    *,
    settings: Settings,
    user_id: uuid.UUID,
    organization_id: uuid.UUID | None,
    adding: Mapping[str, int] | None = None,
) -> None:
    """402 if the user's or the organization's AI budget is used up, or if ``adding``
    would pass one of their limits."""
    await check(
        session,
        owners=owners_of(user_id, organization_id),
        adding=adding,
        ai=True,
        settings=settings,
    )
