"""Identity and tenancy: users, sessions, API keys, organizations, memberships."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from atelier.core.db import Base, CreatedMixin, IdMixin, JSONType, TimestampMixin, str_enum


class UserRole(enum.StrEnum):
    USER = "USER"
    ADMIN = "ADMIN"
    MODERATOR = "MODERATOR"
    DEVELOPER = "DEVELOPER"


class OrgRole(enum.StrEnum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"


class SubscriptionPlan(enum.StrEnum):
    FREE = "FREE"
    BASIC = "BASIC"
    STARTER = "STARTER"
    PRO = "PRO"
    PROFESSIONAL = "PROFESSIONAL"
    ENTERPRISE = "ENTERPRISE"


class SubscriptionStatus(enum.StrEnum):
    TRIAL = "TRIAL"
    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    PAST_DUE = "PAST_DUE"
    CANCELLED = "CANCELLED"
    EXPIRED = "EXPIRED"


class User(IdMixin, TimestampMixin, Base):
    """Union of the user records of seeds 001-004."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    avatar_url: Mapped[str | None] = mapped_column(String(2048))
    role: Mapped[UserRole] = mapped_column(str_enum(UserRole, "user_role"), default=UserRole.USER)
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[dt.datetime | None]
    preferences: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Seed 002's PIN lock: a second factor for sensitive screens, hashed like a password.
    pin_hash: Mapped[str | None] = mapped_column(String(255))


class UserSession(IdMixin, CreatedMixin, Base):
    """Seed 002 Session: a login. Only the token's digest is stored."""

    __tablename__ = "sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[dt.datetime]
    is_active: Mapped[bool] = mapped_column(default=True)
    revoked_at: Mapped[dt.datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(255))

    __table_args__ = (Index("ix_sessions_user_id", "user_id"),)


class ApiKey(IdMixin, CreatedMixin, Base):
    __tablename__ = "api_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the raw key, so a person can tell keys apart.
    key_prefix: Mapped[str] = mapped_column(String(16))
    last_used_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    # What the key may do (atelier.accounts.scopes); keys made before scopes existed
    # got read and write, what they could do then, but not minting keys.
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)

    __table_args__ = (Index("ix_api_keys_user_id", "user_id"),)


class LoginFailure(Base):
    """Recent failed logins of one client address or one account (atelier.accounts.throttle).

    ``key`` is a digest ("address:…" or "account:…" hashed), so the table holds neither
    addresses nor the email addresses people tried.
    """

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]


class Organization(IdMixin, TimestampMixin, Base):
    """Seed 003 Organization."""

    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(String(100))
    slug: Mapped[str] = mapped_column(String(50), unique=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    subscription_status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus, "subscription_status"), default=SubscriptionStatus.TRIAL
    )
    subscription_tier: Mapped[SubscriptionPlan] = mapped_column(
        str_enum(SubscriptionPlan, "subscription_plan"), default=SubscriptionPlan.FREE
    )
    trial_ends_at: Mapped[dt.datetime | None]

    __table_args__ = (
        CheckConstraint("length(slug) >= 3 AND length(slug) <= 50", name="slug_length"),
    )


class Membership(IdMixin, TimestampMixin, Base):
    """Seed 003 OrganizationMember: one per user and organization."""

    __tablename__ = "organization_members"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    role: Mapped[OrgRole] = mapped_column(str_enum(OrgRole, "org_role"), default=OrgRole.MEMBER)

    __table_args__ = (
        UniqueConstraint("user_id", "organization_id"),
        Index("ix_organization_members_organization_id", "organization_id"),
    )


class Subscription(IdMixin, TimestampMixin, Base):
    """Seed 002 Subscription: the plan of a user or of an organization (one of the two)."""

    __tablename__ = "subscriptions"

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), unique=True
    )
    plan: Mapped[SubscriptionPlan] = mapped_column(
        str_enum(SubscriptionPlan, "subscription_plan"), default=SubscriptionPlan.FREE
    )
    status: Mapped[SubscriptionStatus] = mapped_column(
        str_enum(SubscriptionStatus, "subscription_status"), default=SubscriptionStatus.ACTIVE
    )
    current_period_start: Mapped[dt.datetime | None]
    current_period_end: Mapped[dt.datetime | None]
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)

    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (organization_id IS NULL)", name="exactly_one_owner"),
    )


class SubscriptionUsage(IdMixin, CreatedMixin, Base):
    """Seed 002 SubscriptionUsage: a counter per metric and period window ("2026-12-08",
    "2026-12" or "2026"), kept by accounts/metering.py. Dollars are counted in millionths."""

    __tablename__ = "subscription_usage"

    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE")
    )
    metric: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(32))
    value: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (UniqueConstraint("subscription_id", "metric", "period"),)
