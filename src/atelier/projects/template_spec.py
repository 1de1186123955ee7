"""A built-in project template, as a pack declares it (``PackSpec.templates``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TemplateSpec:
    key: str  # stable slug, e.g. "saas-dashboard"; unique across packs (it makes the id)
    name: str
    description: str
    category: str  # an atelier.projects.models.TemplateCategory value
    icon: str  # a Lucide icon name
    # stage seed name → {"userInput": guidance}, for the pipeline's stages
    stage_defaults: dict[str, dict[str, str]]
