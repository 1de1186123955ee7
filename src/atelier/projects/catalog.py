"""What the engine knows of the installed packs: their keys, labels and pipelines.

Read from the pack registry (``atelier.core.packs``): the engine names no pack. A
project's ``pack`` is any registered pack's key; a pack with a ``pipeline`` gets stages.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from atelier.core.packs import packs
from atelier.projects.stage_spec import StageSpec
from atelier.projects.template_spec import TemplateSpec

# The pack of a project created without one: every installation has it (it holds the
# general-purpose brief tool), and a pack that is uninstalled later falls back to it.
DEFAULT_PACK = "general"


def pipeline_for(key: str) -> tuple[StageSpec, ...] | None:
    spec = packs.get(key)
    pipeline = getattr(spec, "pipeline", None) if spec is not None else None
    return tuple(pipeline) if pipeline else None


def pipeline_packs() -> list[str]:
    return [spec.key for spec in packs.all() if getattr(spec, "pipeline", None)]


def builtin_templates() -> list[tuple[str, TemplateSpec]]:
    """Every installed pack's built-in templates, as (pack key, template), packs in order."""
    return [
        (spec.key, template) for spec in packs.all() for template in getattr(spec, "templates", ())
    ]


def label_of(key: str) -> str:
    spec = packs.get(key)
    return str(spec.label) if spec is not None else key


def known_pack(key: str) -> str:
    """``key`` if a pack by that key is installed (a pydantic validator: the error
    names the field and lists the installed packs)."""
    if packs.get(key) is None:
        raise ValueError(f"unknown pack {key!r}; installed: {', '.join(packs.keys())}")
    return key


# A pack key in an API model: checked against the registry, not a closed enum, so that
# installing a pack needs no schema change.
PackKey = Annotated[
    str,
    Field(min_length=1, max_length=32, description="a pack's key (GET /api/v1/packs)"),
    AfterValidator(known_pack),
]
