"""API models for accounts and API keys."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints, field_validator

from atelier.accounts.models import UserRole
from atelier.accounts.scopes import Scope
from atelier.core.schemas import InputModel, OutputModel
from atelier.core.strict_json import StrictJsonObject

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Email = Annotated[EmailStr, StringConstraints(max_length=255)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class SignupIn(InputModel):
    email: Email
    name: Name
    password: Password


class LoginIn(InputModel):
    email: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class UserOut(OutputModel):
    id: uuid.UUID
    email: str
    name: str
    avatar_url: str | None
    role: UserRole
    is_active: bool
    last_login_at: dt.datetime | None
    preferences: dict[str, Any]
    created_at: dt.datetime
    updated_at: dt.datetime


class AuthOut(OutputModel):
    user: UserOut
    token: str
    expires_at: dt.datetime


class ProfileUpdate(InputModel):
    name: Name | None = None
    # An http(s) address of a picture; "" or null removes it.
    avatar_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048)] | None = (
        None
    )
    preferences: StrictJsonObject | None = None

    @field_validator("avatar_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// address")
        return value or None


class ApiKeyCreate(InputModel):
    label: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    expires_at: dt.datetime | None = Field(
        default=None, description="when the key stops working (UTC if no offset is given)"
    )
    scopes: list[Scope] | None = Field(
        default=None,
        min_length=1,
        description="what the key may do: read (GET), write (everything else), keys (create "
        "and revoke API keys and MCP tokens); default read and write",
    )

    @field_validator("expires_at")
    @classmethod
    def _in_the_future(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        if value <= dt.datetime.now(dt.UTC):
            raise ValueError("must be in the future")
        return value.astimezone(dt.UTC)


class ApiKeyOut(OutputModel):
    id: uuid.UUID
    label: str
    key_prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None
    scopes: list[str]


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The raw key. Shown once; store it now.")
