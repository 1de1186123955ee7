"""API models for organizations and their members."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import StringConstraints

from atelier.accounts.models import OrgRole, SubscriptionPlan, SubscriptionStatus
from atelier.accounts.schemas import Email
from atelier.core.schemas import InputModel, OutputModel

OrgName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Slug = Annotated[str, StringConstraints(min_length=3, max_length=50, pattern=r"^[a-z0-9-]+$")]


class OrganizationCreate(InputModel):
    name: OrgName
    slug: Slug | None = None


class OrganizationUpdate(InputModel):
    name: OrgName | None = None
    slug: Slug | None = None


class OrganizationOut(OutputModel):
    id: uuid.UUID
    name: str
    slug: str
    subscription_status: SubscriptionStatus
    subscription_tier: SubscriptionPlan
    trial_ends_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    role: OrgRole | None = None


class MemberAdd(InputModel):
    email: Email
    role: OrgRole = OrgRole.MEMBER


class MemberUpdate(InputModel):
    role: OrgRole


class MemberOut(OutputModel):
    user_id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    name: str
    role: OrgRole
    created_at: dt.datetime
