"""experiment_plan: hypotheses, the experiments that test them, and when they pass."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atelier.ai.tools import Tool
from atelier.packs.strategy._shared import Item, Level, Line, Name, Paragraph, Text

Method = Literal[
    "interview",
    "survey",
    "landing_page",
    "prototype_test",
    "concierge",
    "wizard_of_oz",
    "a_b_test",
    "pilot",
    "data_analysis",
    "other",
]


class ExperimentPlanInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Experiment plan input")

    initiative: Name = Field(description="the product, feature or change being tested")
    assumptions: list[Item] = Field(
        min_length=1,
        max_length=10,
        description="beliefs that must be true for it to succeed, one per entry",
    )
    audience: Item | None = Field(default=None, description="who the experiments involve")
    resources: Item | None = Field(
        default=None, description="time, money and people available for testing"
    )
    time_box: Item | None = Field(default=None, description="when a decision is needed")
    existing_evidence: Text | None = Field(
        default=None, description="what is already known: data, research, earlier tests"
    )


class Experiment(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Experiment")

    name: Line = Field(description="a short name for the experiment")
    hypothesis: Line = Field(
        description="'We believe that ... will ... We will know when ...', testable and falsifiable"
    )
    assumption: Line = Field(description="the input assumption this experiment tests")
    risk: Level = Field(description="how much depends on the assumption being true")
    method: Method = Field(description="the kind of experiment")
    setup: Paragraph = Field(description="what is built or done, with whom, and how")
    metric: Line = Field(description="the number the experiment reads")
    success_criteria: Line = Field(description="the threshold that supports the hypothesis")
    failure_criteria: Line = Field(description="the result that refutes it")
    duration: Line = Field(description="how long the experiment runs")
    effort: Level = Field(description="the cost in time and money to run it")


class ExperimentPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Experiment plan")

    summary: Paragraph = Field(description="what the plan tests first, and why")
    experiments: list[Experiment] = Field(
        min_length=1, max_length=8, description="one or more experiments per assumption"
    )
    sequence: list[Line] = Field(
        min_length=1,
        max_length=8,
        description="the order to run the experiments in, with the reason for each step",
    )
    decision_rules: list[Line] = Field(
        min_length=1,
        max_length=6,
        description="what to do with the results: persevere, pivot or stop, and when",
    )


class ExperimentPlanTool(Tool):
    key = "experiment_plan"
    title = "Experiment plan"
    description = (
        "Hypotheses from your riskiest assumptions, experiments to test them, the metric "
        "each reads and the criteria for success or failure."
    )
    pack = "strategy"
    phase = "deliver"
    input_model = ExperimentPlanInput
    output_model = ExperimentPlan
    prompt_file = Path(__file__).parent / "prompts" / "experiment_plan.j2"
    prompt_version = "1"
