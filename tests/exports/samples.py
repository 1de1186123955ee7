"""Export fixtures: a test-only tool with nested objects and lists of objects, and
projects of realistic size built from it and the ``brief`` tool (also used by
bench/export.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atelier.ai.tools import Tool
from atelier.exports import ExportArtifact, ExportProject
from atelier.packs.general.brief import BriefTool

WHEN = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


class Device(BaseModel):
    kind: str
    share: int = Field(title="Share (%)")


class Context(BaseModel):
    location: str
    devices: list[Device] = Field(default_factory=list)


class Persona(BaseModel):
    name: str
    role: str
    quote: str | None = None
    goals: list[str] = Field(default_factory=list)
    context: Context


class Touchpoint(BaseModel):
    step: str
    channel: str
    emotion: Literal["frustrated", "neutral", "delighted"]
    pain_points: list[str] = Field(default_factory=list, description="what goes wrong here")
    score: int = Field(ge=1, le=5)


class Target(BaseModel):
    metric: str
    baseline: float | None = None
    target: float
    unit: str


class Metrics(BaseModel):
    north_star: str = Field(title="North-star metric")
    targets: list[Target] = Field(description="what success looks like, measured")


class JourneyInput(BaseModel):
    model_config = ConfigDict(title="Journey input")

    product: str = Field(description="what is being mapped")
    segment: str
    channels: list[str] = Field(default_factory=list)


class JourneyOutput(BaseModel):
    model_config = ConfigDict(title="Customer journey")

    title: str
    summary: str
    persona: Persona = Field(description="the person whose journey this is")
    stages: list[Touchpoint] = Field(title="Journey stages")
    metrics: Metrics
    open_questions: list[str] = Field(default_factory=list)
    confidence: float
    validated: bool


class JourneyTool(Tool):
    """Test-only: a customer journey map, nested enough to exercise every rendering path."""

    key = "journey"
    title = "Customer journey"
    description = "A persona's journey through a product, stage by stage."
    pack = "test"
    phase = "discover"
    input_model = JourneyInput
    output_model = JourneyOutput
    prompt_file = Path(__file__).with_name("journey.j2")  # never rendered here
    prompt_version = "1"


def journey_output(n: int = 0, stages: int = 6) -> dict[str, Any]:
    """A journey output; ``stages`` rows in its table."""
    emotions = ("frustrated", "neutral", "delighted")
    return {
        "title": f"Harbour booking journey {n}",
        "summary": (
            "Skippers book a berth the evening before arrival, usually from the boat and on a "
            "phone with a weak signal. Most give up when the harbour's page asks for an account; "
            "the ones who finish book again and tell other crews."
        ),
        "persona": {
            "name": "Marta Ilves",
            "role": "Weekend skipper | club member",
            "quote": "I just want to know there is room before the wind turns.",
            "goals": ["Book a berth in under two minutes", "Pay without a new account"],
            "context": {
                "location": "On deck, coastal waters",
                "devices": [{"kind": "Phone", "share": 80}, {"kind": "Tablet", "share": 20}],
            },
        },
        "stages": [
            {
                "step": f"Step {i + 1}: " + ("Search | compare harbours" if i == 0 else "Book"),
                "channel": "Mobile web" if i % 2 else "VHF radio\nthen phone",
                "emotion": emotions[i % 3],
                "pain_points": [f"Pain {i}a: no prices shown", f"Pain {i}b: slow page"],
                "score": 1 + i % 5,
            }
            for i in range(stages)
        ],
        "metrics": {
            "north_star": "Berths booked online per week",
            "targets": [
                {"metric": "Online share", "baseline": 12, "target": 45, "unit": "%"},
                {"metric": "Time to book", "baseline": 9.5, "target": 2, "unit": "min"},
                {"metric": "Repeat bookings", "target": 30, "unit": "%"},
            ],
        },
        "open_questions": ["Do harbours accept card deposits?", "Who answers the VHF at night?"],
        "confidence": 0.7,
        "validated": False,
    }


def journey_input(n: int = 0) -> dict[str, Any]:
    return {
        "product": f"Harbour booking {n}",
        "segment": "Weekend skippers",
        "channels": ["web", "radio"],
    }


def brief_output(n: int = 0) -> dict[str, Any]:
    return {
        "title": f"Tide tables for skippers {n}",
        "summary": (
            "A pocket app that tells coastal skippers when they can leave and enter harbour, "
            "offline, from official tide tables and the boat's draft."
        ),
        "problem": (
            "Skippers juggle printed tables, three apps and a calculator to know whether "
            "there is enough water under the keel; mistakes cost hulls and tempers."
        ),
        "audience": "Coastal leisure skippers with boats of 6 to 15 metres",
        "value_proposition": "One answer, offline: go now, or wait until 14:20.",
        "goals": ["1,000 weekly users by summer", "Rating of 4.5 or more", "Break even in year 2"],
        "risks": ["Tide data licences | cost", "Liability for wrong answers"],
        "next_steps": ["Interview 12 skippers", "Price the tide data", "Prototype the answer"],
    }


def brief_input(n: int = 0) -> dict[str, Any]:
    return {
        "name": f"Tide {n}",
        "idea": "Tell skippers when they can safely leave harbour.",
        "audience": None,
        "problem": None,
        "constraints": ["Offline first", "Two developers"],
    }


def brief_artifact(n: int = 0, *, phase: str | None = "define", **changes: Any) -> ExportArtifact:
    fields: dict[str, Any] = {
        "id": f"brief-{n}",
        "name": f"Brief {n}",
        "tool_key": "brief",
        "tool_title": "Brief",
        "phase": phase,
        "status": "complete",
        "version": 2,
        "generated_by": "ai",
        "updated_at": WHEN + timedelta(minutes=n),
        "input_data": brief_input(n),
        "output_data": brief_output(n),
        "tool": BriefTool(),
    }
    fields.update(changes)
    return ExportArtifact(**fields)


def journey_artifact(
    n: int = 0, *, phase: str | None = "discover", stages: int = 6, **changes: Any
) -> ExportArtifact:
    fields: dict[str, Any] = {
        "id": f"journey-{n}",
        "name": f"Journey {n}",
        "tool_key": "journey",
        "tool_title": "Customer journey",
        "phase": phase,
        "status": "complete",
        "version": 1,
        "generated_by": "ai",
        "updated_at": WHEN + timedelta(minutes=n),
        "input_data": journey_input(n),
        "output_data": journey_output(n, stages),
        "tool": JourneyTool(),
    }
    fields.update(changes)
    return ExportArtifact(**fields)


def project(artifacts: list[ExportArtifact], name: str = "Harbour Tide") -> ExportProject:
    return ExportProject(
        name=name,
        description="Tools for coastal skippers: tides, berths and weather in one place.",
        pack="general",
        phase="define",
        owner_name="Ann Example",
        exported_at=WHEN,
        artifacts=artifacts,
    )


def big_project(count: int = 20) -> ExportProject:
    """``count`` artifacts, alternating brief and journey, across the four phases."""
    phases = ("discover", "define", "develop", "deliver")
    artifacts = [
        brief_artifact(i, phase=phases[i % 4])
        if i % 2
        else journey_artifact(i, phase=phases[i % 4], stages=12)
        for i in range(count)
    ]
    return project(artifacts)
