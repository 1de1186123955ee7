"""The admin console's logic: find users and organizations, change their role, state and
plan. Services flush; the request commits.

Two rules keep an instance governable: an administrator cannot deactivate themself (it
would sign them out at once, everywhere), and no change may leave the instance without an
active administrator (409 ``last_admin``), which is what stops the last one demoting
themself.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, and_, exists, func, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from atelier.accounts.admin_schemas import AdminOrganizationUpdate, AdminUserUpdate
from atelier.accounts.models import (
    Membership,
    Organization,
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
    User,
    UserRole,
    UserSession,
)
from atelier.accounts.principal import Principal
from atelier.core.db import utcnow
from atelier.core.errors import Conflict, NotFound
from atelier.core.pagination import next_cursor, paginate_query

UserRow = tuple[User, Subscription | None]
OrganizationRow = tuple[Organization, int]


def _users_query() -> Select[User, Subscription]:
    return select(User, Subscription).outerjoin(Subscription, Subscription.user_id == User.id)


async def list_users(
    session: AsyncSession,
    *,
    q: str = "",
    role: UserRole | None = None,
    active: bool | None = None,
    cursor: str | None,
    limit: int,
) -> tuple[list[UserRow], str | None]:
    """Users newest first; ``q`` a piece of their email or name, any case."""
    query = _users_query()
    if q:
        query = query.where(
            or_(User.email.icontains(q, autoescape=True), User.name.icontains(q, autoescape=True))
        )
    if role is not None:
        query = query.where(User.role == role)
    if active is not None:
        query = query.where(User.is_active.is_(active))
    query = paginate_query(
        query, created_col=User.created_at, id_col=User.id, cursor=cursor, limit=limit
    )
    rows: list[UserRow] = [(user, sub) for user, sub in (await session.execute(query)).all()]
    return rows[:limit], next_cursor([user for user, _ in rows], limit)


async def load_user(session: AsyncSession, user_id: uuid.UUID) -> UserRow:
    row = (await session.execute(_users_query().where(User.id == user_id))).first()
    if row is None:
        raise NotFound("no such user", code="user_not_found")
    return row[0], row[1]


async def update_user(
    session: AsyncSession, *, actor: Principal, user_id: uuid.UUID, changes: AdminUserUpdate
) -> UserRow:
    """Apply what ``changes`` sets. Deactivating revokes the user's sessions in the same
    transaction; their API keys are refused while the account is inactive (the lookups
    join the user), and work again if it is reactivated."""
    user, subscription = await load_user(session, user_id)
    values: dict[str, Any] = {}
    if changes.role is not None and changes.role != user.role:
        values["role"] = changes.role
    if changes.is_active is not None and changes.is_active != user.is_active:
        if not changes.is_active and user.id == actor.id:
            raise Conflict(
                "you cannot deactivate your own account: another administrator can",
                code="cannot_deactivate_self",
            )
        values["is_active"] = changes.is_active
    if values:
        await _change_user(session, user, values)
    if changes.plan is not None or changes.subscription_status is not None:
        subscription = await _set_subscription(
            session, user, subscription, plan=changes.plan, status=changes.subscription_status
        )
    return user, subscription


def _active_admin() -> Any:
    return and_(User.role == UserRole.ADMIN, User.is_active.is_(True))


async def _change_user(session: AsyncSession, user: User, values: dict[str, Any]) -> None:
    statement = (
        update(User)
        .where(User.id == user.id)
        .values(**values)
        .execution_options(synchronize_session=False)  # refreshed below
    )
    if values.get("role", UserRole.ADMIN) != UserRole.ADMIN or values.get("is_active") is False:
        # The change may take an administrator away: it happens only if another active one
        # stays. The condition is part of the UPDATE, so on SQLite (one writer at a time)
        # two such changes cannot both pass; on PostgreSQL the administrators' rows are
        # locked first, so the second of two concurrent changes waits, then sees the first.
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(
                select(User.id).where(_active_admin()).order_by(User.id).with_for_update()
            )
        other = aliased(User)
        another_admin = exists().where(
            other.id != user.id, other.role == UserRole.ADMIN, other.is_active.is_(True)
        )
        statement = statement.where(or_(not_(_active_admin()), another_admin))
    result = await session.execute(statement)
    if result.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict(
            "this would leave the instance without an active administrator: make another "
            "user an administrator first",
            code="last_admin",
        )
    if values.get("is_active") is False:
        await session.execute(
            update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.is_active.is_(True))
            .values(is_active=False, revoked_at=utcnow())
        )
    await session.refresh(user)


async def _set_subscription(
    session: AsyncSession,
    user: User,
    subscription: Subscription | None,
    *,
    plan: SubscriptionPlan | None,
    status: SubscriptionStatus | None,
) -> Subscription:
    if subscription is None:
        # Made on first use, as a new account has none: the free plan, active.
        subscription = Subscription(
            user_id=user.id, plan=SubscriptionPlan.FREE, status=SubscriptionStatus.ACTIVE
        )
        session.add(subscription)
    if plan is not None:
        subscription.plan = plan
    if status is not None:
        subscription.status = status
    await session.flush()
    return subscription


async def count_users(session: AsyncSession) -> tuple[int, int]:
    """All users, and the active ones."""
    row = (
        await session.execute(
            select(func.count(), func.count().filter(User.is_active.is_(True))).select_from(User)
        )
    ).one()
    return int(row[0]), int(row[1])


# --------------------------------------------------------------------- organizations
def _organizations_query() -> Select[Organization, int]:
    members = (
        select(func.count())
        .where(Membership.organization_id == Organization.id)
        .correlate(Organization)
        .scalar_subquery()
    )
    return select(Organization, members)


async def list_organizations(
    session: AsyncSession, *, q: str = "", cursor: str | None, limit: int
) -> tuple[list[OrganizationRow], str | None]:
    """Every organization newest first, with its number of members; ``q`` a piece of its
    name or slug, any case."""
    query = _organizations_query()
    if q:
        query = query.where(
            or_(
                Organization.name.icontains(q, autoescape=True),
                Organization.slug.icontains(q, autoescape=True),
            )
        )
    query = paginate_query(
        query,
        created_col=Organization.created_at,
        id_col=Organization.id,
        cursor=cursor,
        limit=limit,
    )
    rows = [(org, int(members)) for org, members in (await session.execute(query)).all()]
    return rows[:limit], next_cursor([org for org, _ in rows], limit)


async def load_organization(session: AsyncSession, org_id: uuid.UUID) -> OrganizationRow:
    row = (await session.execute(_organizations_query().where(Organization.id == org_id))).first()
    if row is None:
        raise NotFound("no such organization", code="organization_not_found")
    return row[0], int(row[1])


async def update_organization(
    session: AsyncSession, *, org_id: uuid.UUID, changes: AdminOrganizationUpdate
) -> OrganizationRow:
    org, members = await load_organization(session, org_id)
    if changes.subscription_tier is not None:
        org.subscription_tier = changes.subscription_tier
    if changes.subscription_status is not None:
        org.subscription_status = changes.subscription_status
    if "trial_ends_at" in changes.model_fields_set:
        org.trial_ends_at = changes.trial_ends_at
    # Budgets read an organization's own subscription before its tier (ai/budgets.py):
    # one that exists follows what the administrator set, or the change would not count.
    subscription = await session.scalar(
        select(Subscription).where(Subscription.organization_id == org.id)
    )
    if subscription is not None:
        subscription.plan = org.subscription_tier
        subscription.status = org.subscription_status
    await session.flush()
    return org, members


async def count_organizations(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Organization)) or 0)
