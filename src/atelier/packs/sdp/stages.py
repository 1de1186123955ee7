"""The nine stages of a software design pipeline, in order, and where their files go.

This module is the contract the rest of the pack shares: the pipeline engine creates
one Stage row per entry, the stage tools are keyed by ``tool_key``, the package export
writes each stage's files under ``folder``.
"""

from __future__ import annotations

from atelier.projects.stage_spec import StageSpec

__all__ = ["BY_NAME", "BY_NUMBER", "STAGES", "StageSpec", "stage"]


def _stage(number: int, name: str, label: str, folder: str, summary: str) -> StageSpec:
    # Each stage's tool is keyed after the stage: sdp_product, sdp_dataModel, ...
    return StageSpec(number, name, label, folder, summary, tool_key=f"sdp_{name}")


STAGES: tuple[StageSpec, ...] = (
    _stage(
        1,
        "product",
        "Product Definition",
        "01-product",
        "what the product is, for whom, and its features",
    ),
    _stage(
        2,
        "dataModel",
        "Data Model",
        "02-data-model",
        "entities, their fields and their relationships",
    ),
    _stage(
        3,
        "database",
        "Database Schema",
        "03-database",
        "SQL for SQLite and PostgreSQL, compiled from the data model",
    ),
    _stage(
        4,
        "api",
        "API Design",
        "04-api",
        "the endpoints, and an OpenAPI 3.1 document rendered from them",
    ),
    _stage(
        5,
        "stack",
        "Tech Stack",
        "05-stack",
        "languages, frameworks and services, each with its reason",
    ),
    _stage(
        6,
        "design",
        "Design System",
        "06-design",
        "visual language: colours, type, components, screens",
    ),
    _stage(
        7,
        "sections",
        "Sections & Screens",
        "07-sections",
        "the app's sections, their screens and the endpoints they use",
    ),
    _stage(
        8,
        "infrastructure",
        "Infrastructure",
        "08-infrastructure",
        "environments, services, deployment and monitoring",
    ),
    _stage(
        9,
        "export",
        "Export Package",
        "09-export",
        "the package manifest and its cross-reference validation",
    ),
)

BY_NAME = {stage.name: stage for stage in STAGES}
BY_NUMBER = {stage.number: stage for stage in STAGES}


def stage(number_or_name: int | str) -> StageSpec:
    """The stage spec by number (1-9) or seed name; KeyError if there is none."""
    if isinstance(number_or_name, int):
        return BY_NUMBER[number_or_name]
    return BY_NAME[number_or_name]


def progress(project: object) -> str:
    """A project's place on its dashboard card: "Stage 3 of 9 · Database Schema"."""
    number = getattr(project, "current_stage", None)
    if not number:
        return ""
    spec = BY_NUMBER.get(number)
    label = f" · {spec.label}" if spec else ""
    return f"Stage {number} of {len(STAGES)}{label}"
