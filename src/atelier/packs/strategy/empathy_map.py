"""empathy_map: what a persona says, thinks, does and feels, with their pains and gains."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from atelier.ai.tools import Tool
from atelier.packs.strategy._shared import Item, Line, Text


class EmpathyMapInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Empathy map input")

    persona: Item = Field(description="who the map is about: a persona or customer segment")
    situation: Text | None = Field(
        default=None, description="the situation or decision the persona is in"
    )
    goal: Item | None = Field(default=None, description="what the persona needs to get done")
    research_notes: Text | None = Field(
        default=None, description="interview quotes, observations, survey results"
    )
    known_facts: list[Item] = Field(
        default_factory=list,
        max_length=12,
        description="facts about the persona: role, habits, tools, numbers",
    )


class EmpathyMap(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Empathy map")

    persona: Line = Field(description="who the map is about, described specifically")
    goal: Line = Field(description="what the persona needs to get done")
    says: list[Line] = Field(
        min_length=1, max_length=8, description="things the persona says out loud, as quotes"
    )
    thinks: list[Line] = Field(
        min_length=1, max_length=8, description="what they think but may not say"
    )
    does: list[Line] = Field(min_length=1, max_length=8, description="observable behaviour")
    feels: list[Line] = Field(
        min_length=1, max_length=8, description="emotions, each with what causes it"
    )
    pains: list[Line] = Field(
        min_length=1, max_length=8, description="fears, frustrations and obstacles"
    )
    gains: list[Line] = Field(
        min_length=1, max_length=8, description="wants, needs and measures of success"
    )
    insights: list[Line] = Field(
        min_length=1,
        max_length=6,
        description="tensions worth exploring, e.g. where what they say and do differ",
    )


class EmpathyMapTool(Tool):
    key = "empathy_map"
    title = "Empathy map"
    description = (
        "What a persona says, thinks, does and feels, their pains and gains, and the "
        "tensions between them."
    )
    pack = "strategy"
    phase = "discover"
    input_model = EmpathyMapInput
    output_model = EmpathyMap
    prompt_file = Path(__file__).parent / "prompts" / "empathy_map.j2"
    prompt_version = "1"
