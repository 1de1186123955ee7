"""API models for templates."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import StringConstraints

from atelier.core.schemas import InputModel, OutputModel
from atelier.projects.models import TemplateCategory


class TemplateOut(OutputModel):
    id: uuid.UUID
    name: str
    description: str
    pack: str
    category: TemplateCategory
    icon: str | None
    stage_defaults: dict[str, Any]
    is_built_in: bool
    owner_id: uuid.UUID | None
    created_at: dt.datetime


class TemplateList(OutputModel):
    items: list[TemplateOut]


class SaveAsTemplate(InputModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    category: TemplateCategory = TemplateCategory.OTHER
    icon: Annotated[str, StringConstraints(max_length=64)] | None = None
