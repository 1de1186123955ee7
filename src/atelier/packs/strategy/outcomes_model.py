"""outcomes_model: desired outcomes turned into measurable results, indicators and owners."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from atelier.ai.tools import Tool
from atelier.packs.strategy._shared import Item, Level, Line, Name, Paragraph, Text


class OutcomesModelInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Outcomes model input")

    initiative: Name = Field(description="the product, initiative or change the outcomes are for")
    desired_outcomes: list[Item] = Field(
        min_length=1,
        max_length=10,
        description="the outcomes you want, in your own words, one per entry",
    )
    context: Text | None = Field(
        default=None, description="background: situation, strategy, what prompted this"
    )
    time_horizon: Item | None = Field(
        default=None, description="the period the outcomes should be reached in, e.g. 'by Q4'"
    )
    stakeholders: list[Item] = Field(
        default_factory=list,
        max_length=12,
        description="teams or roles who could own an outcome",
    )
    current_metrics: list[Item] = Field(
        default_factory=list,
        max_length=12,
        description="metrics already tracked, with today's value where known",
    )


class MeasurableResult(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Measurable result")

    metric: Line = Field(description="what is measured, precisely enough to be counted")
    baseline: Line = Field(description="today's value, or 'unknown: measure first'")
    target: Line = Field(description="the value that means success")
    time_frame: Line = Field(description="when the target should be reached")


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Outcome")

    outcome: Line = Field(description="the desired outcome, as a change in behaviour or state")
    rationale: Paragraph = Field(description="why this outcome matters for the initiative")
    priority: Level = Field(description="how much this outcome matters relative to the others")
    measurable_results: list[MeasurableResult] = Field(
        min_length=1, max_length=4, description="results that show the outcome was reached"
    )
    leading_indicators: list[Line] = Field(
        min_length=1, max_length=5, description="early signals that move before the result does"
    )
    lagging_indicators: list[Line] = Field(
        min_length=1, max_length=5, description="signals that confirm the result afterwards"
    )
    owner: Line = Field(description="the role or team accountable for this outcome")


class Assumption(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Assumption")

    assumption: Line = Field(description="something taken as true that the outcomes depend on")
    risk_if_wrong: Level = Field(description="how badly the outcomes suffer if it is false")
    how_to_check: Line = Field(description="a cheap way to find out whether it holds")


class OutcomesModel(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Outcomes model")

    summary: Paragraph = Field(description="the outcomes in two or three sentences")
    outcomes: list[Outcome] = Field(
        min_length=1, max_length=8, description="one outcome per desired outcome"
    )
    assumptions: list[Assumption] = Field(
        min_length=1, max_length=8, description="what the outcomes depend on being true"
    )


class OutcomesModelTool(Tool):
    key = "outcomes_model"
    title = "Outcomes model"
    description = (
        "Desired outcomes as measurable results with leading and lagging indicators, "
        "owners, time frames and the assumptions behind them."
    )
    pack = "strategy"
    phase = "define"
    input_model = OutcomesModelInput
    output_model = OutcomesModel
    prompt_file = Path(__file__).parent / "prompts" / "outcomes_model.j2"
    prompt_version = "1"
