"""customer_journey: the stages a persona goes through, and how each one feels."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from atelier.ai.tools import Tool
from atelier.exports.markdown import MAX_TABLE_COLUMNS, escape_inline
from atelier.packs.strategy._shared import Item, Line, Name, Text

Sentiment = Literal["very_negative", "negative", "neutral", "positive", "very_positive"]


class CustomerJourneyInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Customer journey input")

    persona: Item = Field(description="who takes the journey: a persona or customer segment")
    goal: Item = Field(description="what the persona is trying to achieve on this journey")
    product: Name | None = Field(default=None, description="the product or service involved")
    scope: Text | None = Field(
        default=None, description="where the journey starts and ends, and what is left out"
    )
    stages: list[Item] = Field(
        default_factory=list,
        max_length=10,
        description="stage names to use, in order; leave empty to have stages proposed",
    )
    known_touchpoints: list[Item] = Field(
        default_factory=list,
        max_length=12,
        description="channels and places where the persona meets the organization",
    )
    research_notes: Text | None = Field(
        default=None, description="interview findings, observations, support tickets, data"
    )


class JourneyStage(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Journey stage")

    stage: Line = Field(description="the stage's name")
    customer_actions: list[Line] = Field(
        min_length=1, max_length=6, description="what the persona does in this stage"
    )
    touchpoints: list[Line] = Field(
        min_length=1, max_length=6, description="where the persona meets the organization"
    )
    emotions: list[Line] = Field(
        min_length=1, max_length=4, description="what the persona feels, and why"
    )
    sentiment: Sentiment = Field(description="the overall mood of the stage")
    pain_points: list[Line] = Field(
        min_length=1, max_length=6, description="what goes wrong or is hard here"
    )
    opportunities: list[Line] = Field(
        min_length=1, max_length=6, description="how the experience could be improved here"
    )


class CustomerJourney(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Customer journey")

    persona: Line = Field(description="who takes the journey, described specifically")
    goal: Line = Field(description="what the persona is trying to achieve")
    stages: list[JourneyStage] = Field(
        min_length=1, max_length=8, description="the stages of the journey, in order"
    )
    key_insights: list[Line] = Field(
        min_length=1,
        max_length=6,
        description="moments that matter most across the journey, and what they mean",
    )


ROWS: tuple[tuple[str, str], ...] = (
    ("Actions", "customer_actions"),
    ("Touchpoints", "touchpoints"),
    ("Emotions", "emotions"),
    ("Pain points", "pain_points"),
    ("Opportunities", "opportunities"),
)


def _cell(stage: JourneyStage, attribute: str) -> str:
    entries = [escape_inline(entry) for entry in getattr(stage, attribute)]
    if attribute == "emotions":
        entries.append(f"*{stage.sentiment.replace('_', ' ')}*")
    return "<br>".join(entries)


def journey_table(stages: list[JourneyStage]) -> str:
    """Stages as columns and the ROWS as rows; turned a quarter when there are more stages
    than columns fit on a page (then one row per stage)."""
    grid = [["", *(f"**{escape_inline(s.stage)}**" for s in stages)]]
    grid += [[f"**{label}**", *(_cell(s, attribute) for s in stages)] for label, attribute in ROWS]
    if len(grid[0]) > MAX_TABLE_COLUMNS:
        grid = [list(column) for column in zip(*grid, strict=True)]
        grid[0][0] = "**Stage**"
    lines = ["| " + " | ".join(grid[0]) + " |", "|" + "---|" * len(grid[0])]
    lines += ["| " + " | ".join(row) + " |" for row in grid[1:]]
    return "\n".join(lines)


class CustomerJourneyTool(Tool):
    key = "customer_journey"
    title = "Customer journey map"
    description = (
        "A persona's journey stage by stage: actions, touchpoints, emotions, pain points "
        "and opportunities."
    )
    pack = "strategy"
    phase = "discover"
    input_model = CustomerJourneyInput
    output_model = CustomerJourney
    prompt_file = Path(__file__).parent / "prompts" / "customer_journey.j2"
    prompt_version = "1"

    def render_markdown(self, output: dict[str, Any]) -> str | None:
        """The journey as a stage-by-stage table; None (the generic rendering) when the
        output is not a valid journey, e.g. after a hand edit."""
        try:
            journey = CustomerJourney.model_validate(output)
        except ValidationError:
            return None
        lines = [
            f"**Persona:** {escape_inline(journey.persona)}",
            "",
            f"**Goal:** {escape_inline(journey.goal)}",
            "",
            "# Stages",
            "",
            journey_table(journey.stages),
            "",
            "# Key insights",
            "",
            *(f"- {escape_inline(insight)}" for insight in journey.key_insights),
        ]
        return "\n".join(lines) + "\n"
