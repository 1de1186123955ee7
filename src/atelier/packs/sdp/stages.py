"""The nine stages of a software design pipeline, in order, and where their files go.

This module is the contract the rest of the pack shares: the pipeline engine creates
one Stage row per entry, the stage tools are keyed by ``tool_key``, the package export
writes each stage's files under ``folder``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StageSpec:
    number: int
    name: str  # seed 001 stageName
    label: str  # seed 001 stageLabel
    folder: str  # the stage's folder in an exported package
    summary: str  # one line for help text and the UI

    @property
    def tool_key(self) -> str:
        return f"sdp_{self.name}"


STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        1,
        "product",
        "Product Definition",
        "01-product",
        "what the product is, for whom, and its features",
    ),
    StageSpec(
        2,
        "dataModel",
        "Data Model",
        "02-data-model",
        "entities, their fields and their relationships",
    ),
    StageSpec(
        3,
        "database",
        "Database Schema",
        "03-database",
        "SQL for SQLite and PostgreSQL, compiled from the data model",
    ),
    StageSpec(
        4,
        "api",
        "API Design",
        "04-api",
        "the endpoints, and an OpenAPI 3.1 document rendered from them",
    ),
    StageSpec(
        5,
        "stack",
        "Tech Stack",
        "05-stack",
        "languages, frameworks and services, each with its reason",
    ),
    StageSpec(
        6,
        "design",
        "Design System",
        "06-design",
        "visual language: colours, type, components, screens",
    ),
    StageSpec(
        7,
        "sections",
        "Sections & Screens",
        "07-sections",
        "the app's sections, their screens and the endpoints they use",
    ),
    StageSpec(
        8,
        "infrastructure",
        "Infrastructure",
        "08-infrastructure",
        "environments, services, deployment and monitoring",
    ),
    StageSpec(
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
