"""API models for accounts and API keys."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import EmailStr, Field, StringConstraints, field_validator

from atelier.accounts.models import UserRole
from atelier.core.schemas import InputModel, OutputModel

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
    preferences: dict[str, Any] | None = None

    @field_validator("avatar_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// address")
        return value or None


class ApiKeyCreate(InputModel):
    label: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    expires_at: dt.datetime | None = None


class ApiKeyOut(OutputModel):
    id: uuid.UUID
    label: str
    key_prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The raw key. Shown once; store it now.")
