"""Output models of the prose stages: product, stack, design, sections, infrastructure.

What a (possibly small, local) model writes under a grammar: every object closed, every
field required, every string and list bounded. The data model, database and API stages
have their own modules (datamodel, sqlgen, api_spec); the export stage writes no AI output.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1500)]
Lines = Annotated[list[Line], Field(max_length=20)]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- 1 product --------------------------------------------------------------------------------
class Feature(_Closed):
    model_config = ConfigDict(title="Feature")

    name: Line = Field(description="short feature name")
    description: Line = Field(description="what a user can do with it")
    priority: Literal["must", "should", "could"] = Field(description="MoSCoW priority")


class Persona(_Closed):
    model_config = ConfigDict(title="Persona")

    name: Line = Field(description="who, e.g. 'Ops lead at a 20-person agency'")
    needs: Line = Field(description="what they need from the product")


class ProductDefinition(_Closed):
    model_config = ConfigDict(title="Product definition")

    name: Line = Field(description="the product's name")
    tagline: Line = Field(description="one line that says what it is")
    problem: Paragraph = Field(description="the problem it solves, for whom")
    solution: Paragraph = Field(description="how the product solves it")
    personas: list[Persona] = Field(min_length=1, max_length=8)
    features: list[Feature] = Field(min_length=1, max_length=30)
    non_goals: Lines = Field(description="what the product deliberately does not do")
    success_metrics: Lines = Field(description="measurable signs that it works")


# -- 5 stack ----------------------------------------------------------------------------------
class StackChoice(_Closed):
    model_config = ConfigDict(title="Stack choice")

    layer: Literal[
        "frontend",
        "backend",
        "database",
        "auth",
        "hosting",
        "storage",
        "queue",
        "ci",
        "monitoring",
        "testing",
        "other",
    ] = Field(description="which part of the system")
    choice: Line = Field(description="the technology, e.g. 'PostgreSQL 16'")
    reason: Line = Field(description="why it fits this product")
    alternatives: Lines = Field(description="what else was considered")


class StackDecision(_Closed):
    model_config = ConfigDict(title="Tech stack")

    summary: Paragraph = Field(description="the stack in two or three sentences")
    choices: list[StackChoice] = Field(min_length=1, max_length=20)
    risks: Lines = Field(description="risks of these choices and how to contain them")


# -- 6 design ---------------------------------------------------------------------------------
class ColorToken(_Closed):
    model_config = ConfigDict(title="Colour")

    name: Line = Field(description="token name, e.g. 'primary'")
    value: Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")] = Field(
        description="hex colour, e.g. #2563eb"
    )
    usage: Line = Field(description="where it is used")


class ComponentSpec(_Closed):
    model_config = ConfigDict(title="Component")

    name: Line = Field(description="component name, e.g. 'DataTable'")
    purpose: Line = Field(description="what it is for")
    states: Lines = Field(description="states it must show: empty, loading, error, ...")


class DesignSystem(_Closed):
    model_config = ConfigDict(title="Design system")

    principles: list[Line] = Field(min_length=1, max_length=8)
    colors: list[ColorToken] = Field(min_length=1, max_length=16)
    typography: Lines = Field(description="font families, sizes and their roles")
    spacing: Line = Field(description="the spacing scale, e.g. '4px base: 4, 8, 12, 16, 24, 32'")
    components: list[ComponentSpec] = Field(min_length=1, max_length=30)
    accessibility: Lines = Field(description="accessibility rules the UI keeps")


# -- 7 sections -------------------------------------------------------------------------------
Endpoint = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=200, pattern=r"^(GET|POST|PUT|PATCH|DELETE) /[^ ]*$"
    ),
]


class Section(_Closed):
    model_config = ConfigDict(title="Section")

    name: Line = Field(description="section name, e.g. 'Projects'")
    route: Annotated[str, StringConstraints(max_length=200, pattern=r"^/[^ ]*$")] = Field(
        description="its URL in the app, e.g. /projects/:id"
    )
    purpose: Line = Field(description="what a user does here")
    screens: list[Line] = Field(min_length=1, max_length=12, description="screens or views")
    endpoints: list[Endpoint] = Field(
        max_length=20,
        description="API endpoints the section calls, exactly as 'METHOD /path' from the API",
    )


class SectionsPlan(_Closed):
    model_config = ConfigDict(title="Sections")

    sections: list[Section] = Field(min_length=1, max_length=30)


# -- 8 infrastructure -------------------------------------------------------------------------
class Service(_Closed):
    model_config = ConfigDict(title="Service")

    name: Line = Field(description="service name, e.g. 'api'")
    kind: Literal["web", "worker", "database", "cache", "queue", "storage", "proxy", "other"]
    image: Line = Field(description="container image or runtime, e.g. 'python:3.12-slim'")
    purpose: Line = Field(description="what it does")


class Environment(_Closed):
    model_config = ConfigDict(title="Environment")

    name: Line = Field(description="e.g. development, staging, production")
    hosting: Line = Field(description="where and how it runs")
    notes: Line = Field(description="what differs in this environment")


class Infrastructure(_Closed):
    model_config = ConfigDict(title="Infrastructure")

    summary: Paragraph
    environments: list[Environment] = Field(min_length=1, max_length=6)
    services: list[Service] = Field(min_length=1, max_length=20)
    ci_cd: Lines = Field(description="pipeline steps from commit to production")
    config: Lines = Field(description="environment variables and secrets, by name only")
    monitoring: Lines = Field(description="logs, metrics, alerts and backups")
