"""API models of the admin console: users and organizations as an administrator sees them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints, field_validator

from atelier.accounts.models import SubscriptionPlan, SubscriptionStatus, UserRole
from atelier.core.schemas import InputModel, OutputModel
from atelier.core.strict_json import check_json


def _searchable(text: str) -> str:
    # A NUL or a lone surrogate cannot be sent to PostgreSQL: a 422 naming the parameter
    # rather than a 500 from the driver.
    check_json(text)
    return text


SearchText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=255), AfterValidator(_searchable)
]


class AdminUserOut(OutputModel):
    id: uuid.UUID
    email: str
    name: str
    role: UserRole
    is_active: bool
    last_login_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    plan: SubscriptionPlan | None = Field(
        description="the plan of the user's subscription; null: none (the free plan)"
    )
    subscription_status: SubscriptionStatus | None = Field(
        description="the status of the user's subscription; null: none"
    )


class AdminUserUpdate(InputModel):
    """What an administrator may change; a field left out (or null) stays as it is."""

    role: UserRole | None = None
    is_active: bool | None = Field(
        default=None,
        description="false signs the user out at once, everywhere: sessions are revoked and "
        "API keys refused until the account is active again",
    )
    plan: SubscriptionPlan | None = Field(
        default=None, description="the plan of the user's subscription (made if missing)"
    )
    subscription_status: SubscriptionStatus | None = Field(
        default=None, description="the status of the user's subscription (made if missing)"
    )


class AdminOrganizationOut(OutputModel):
    id: uuid.UUID
    name: str
    slug: str
    subscription_tier: SubscriptionPlan
    subscription_status: SubscriptionStatus
    trial_ends_at: dt.datetime | None
    members: int
    created_at: dt.datetime
    updated_at: dt.datetime


# Dates an administrator may give: anything a database stores and converts without overflow.
FIRST_YEAR, LAST_YEAR = 1970, 9998


class AdminOrganizationUpdate(InputModel):
    """A field left out stays as it is; ``trial_ends_at`` null ends no trial (clears it)."""

    subscription_tier: SubscriptionPlan | None = None
    subscription_status: SubscriptionStatus | None = None
    trial_ends_at: dt.datetime | None = Field(
        default=None, description="when the trial ends (UTC if no offset is given); null clears it"
    )

    @field_validator("trial_ends_at")
    @classmethod
    def _in_range(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        try:
            value = value.astimezone(dt.UTC)
        except OverflowError:
            raise ValueError(f"must be between the years {FIRST_YEAR} and {LAST_YEAR}") from None
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValueError(f"must be between the years {FIRST_YEAR} and {LAST_YEAR}")
        return value
