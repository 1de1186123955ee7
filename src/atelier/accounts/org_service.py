"""Organizations and memberships. Non-members get 404; members without the role, 403."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import Membership, Organization, OrgRole, User
from atelier.accounts.principal import Principal
from atelier.accounts.service import normalize_email
from atelier.core.errors import Conflict, Forbidden, NotFound, field_error
from atelier.core.ids import slugify
from atelier.core.pagination import next_cursor, paginate_query

MANAGERS = (OrgRole.OWNER, OrgRole.ADMIN)
WRITERS = (OrgRole.OWNER, OrgRole.ADMIN, OrgRole.MEMBER)


async def membership_role(
    session: AsyncSession, *, user_id: uuid.UUID, organization_id: uuid.UUID
) -> OrgRole | None:
    role: OrgRole | None = await session.scalar(
        select(Membership.role).where(
            Membership.user_id == user_id, Membership.organization_id == organization_id
        )
    )
    return role


async def load_organization(
    session: AsyncSession, *, user: Principal, org_id: uuid.UUID, roles: tuple[OrgRole, ...] = ()
) -> tuple[Organization, OrgRole]:
    row = (
        await session.execute(
            select(Organization, Membership.role)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Organization.id == org_id, Membership.user_id == user.id)
        )
    ).first()
    if row is None:
        raise NotFound("no such organization", code="organization_not_found")
    org, role = row
    if roles and role not in roles:
        raise Forbidden(f"this needs one of the roles {', '.join(roles)}; you are {role}")
    return org, role


async def _slug_taken(session: AsyncSession, slug: str) -> bool:
    return (
        await session.scalar(select(Organization.id).where(Organization.slug == slug))
    ) is not None


async def create_organization(
    session: AsyncSession, *, user: Principal, name: str, slug: str | None
) -> Organization:
    if slug is None:
        base = slugify(name, max_length=44)
        base = base if len(base) >= 3 else f"{base}-org"
        slug, n = base, 1
        while await _slug_taken(session, slug):
            n += 1
            slug = f"{base}-{n}"
    elif await _slug_taken(session, slug):
        raise Conflict("this slug is already taken", code="slug_taken")
    org = Organization(name=name, slug=slug)
    session.add(org)
    await session.flush()
    session.add(Membership(user_id=user.id, organization_id=org.id, role=OrgRole.OWNER))
    await session.flush()
    return org


async def update_organization(
    session: AsyncSession, *, org: Organization, name: str | None, slug: str | None
) -> Organization:
    if slug is not None and slug != org.slug:
        if await _slug_taken(session, slug):
            raise Conflict("this slug is already taken", code="slug_taken")
        org.slug = slug
    if name is not None:
        org.name = name
    await session.flush()
    return org


async def list_organizations(
    session: AsyncSession, *, user: Principal, cursor: str | None, limit: int
) -> tuple[list[tuple[Organization, OrgRole]], str | None]:
    query = paginate_query(
        select(Organization, Membership.role)
        .join(Membership, Membership.organization_id == Organization.id)
        .where(Membership.user_id == user.id),
        created_col=Organization.created_at,
        id_col=Organization.id,
        cursor=cursor,
        limit=limit,
    )
    rows = [(org, role) for org, role in (await session.execute(query)).all()]
    return rows[:limit], next_cursor([org for org, _ in rows], limit)


async def list_members(
    session: AsyncSession, *, org: Organization, cursor: str | None, limit: int
) -> tuple[list[tuple[Membership, User]], str | None]:
    query = paginate_query(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organization_id == org.id),
        created_col=Membership.created_at,
        id_col=Membership.id,
        cursor=cursor,
        limit=limit,
    )
    rows = [(m, u) for m, u in (await session.execute(query)).all()]
    return rows[:limit], next_cursor([m for m, _ in rows], limit)


def _check_can_grant(actor_role: OrgRole, role: OrgRole) -> None:
    if role == OrgRole.OWNER and actor_role != OrgRole.OWNER:
        raise Forbidden("only an owner can make someone an owner")


async def add_member(
    session: AsyncSession, *, org: Organization, actor_role: OrgRole, email: str, role: OrgRole
) -> tuple[Membership, User]:
    _check_can_grant(actor_role, role)
    user = await session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise field_error("body.email", "no user has this email; they must sign up first")
    if await membership_role(session, user_id=user.id, organization_id=org.id) is not None:
        raise Conflict("this user is already a member", code="already_member")
    member = Membership(user_id=user.id, organization_id=org.id, role=role)
    session.add(member)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("this user is already a member", code="already_member") from None
    return member, user


async def _load_member(
    session: AsyncSession, *, org: Organization, user_id: uuid.UUID
) -> tuple[Membership, User]:
    row = (
        await session.execute(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.organization_id == org.id, Membership.user_id == user_id)
        )
    ).first()
    if row is None:
        raise NotFound("no such member", code="member_not_found")
    return row[0], row[1]


async def _owner_count(session: AsyncSession, org: Organization) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(Membership)
        .where(Membership.organization_id == org.id, Membership.role == OrgRole.OWNER)
    )
    return int(count or 0)


async def change_role(
    session: AsyncSession,
    *,
    org: Organization,
    actor_role: OrgRole,
    user_id: uuid.UUID,
    role: OrgRole,
) -> tuple[Membership, User]:
    member, user = await _load_member(session, org=org, user_id=user_id)
    _check_can_grant(actor_role, role)
    if member.role == OrgRole.OWNER and actor_role != OrgRole.OWNER:
        raise Forbidden("only an owner can change an owner's role")
    if (
        member.role == OrgRole.OWNER
        and role != OrgRole.OWNER
        and await _owner_count(session, org) <= 1
    ):
        raise Conflict("an organization needs at least one owner", code="last_owner")
    member.role = role
    await session.flush()
    return member, user


async def remove_member(
    session: AsyncSession,
    *,
    org: Organization,
    actor: Principal,
    actor_role: OrgRole,
    user_id: uuid.UUID,
) -> None:
    member, _user = await _load_member(session, org=org, user_id=user_id)
    leaving_self = user_id == actor.id
    if not leaving_self and actor_role not in MANAGERS:
        raise Forbidden("only owners and admins can remove members")
    if member.role == OrgRole.OWNER:
        if not leaving_self and actor_role != OrgRole.OWNER:
            raise Forbidden("only an owner can remove an owner")
        if await _owner_count(session, org) <= 1:
            raise Conflict(
                "the last owner cannot leave; make someone else owner first", code="last_owner"
            )
    await session.delete(member)
    await session.flush()


async def delete_organization(session: AsyncSession, *, org: Organization) -> None:
    await session.delete(org)
    await session.flush()
