"""problem_statement: a point-of-view statement and "how might we" questions."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atelier.ai.quality.check import QualitySpec
from atelier.ai.tools import Tool
from atelier.packs.strategy._shared import Item, Line, Name, Paragraph, Text


class ProblemStatementInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Problem statement input")

    user: Item = Field(description="who has the problem: a persona or customer segment")
    problem: Text = Field(description="the problem as you see it today, in your own words")
    observations: list[Item] = Field(
        default_factory=list,
        max_length=12,
        description="what you saw or heard in research: quotes, behaviours, numbers",
    )
    product: Name | None = Field(default=None, description="the product or service involved")
    constraints: list[Item] = Field(
        default_factory=list,
        max_length=12,
        description="limits any solution must respect: budget, time, rules, technology",
    )


class HowMightWe(BaseModel):
    model_config = ConfigDict(extra="forbid", title="How might we question")

    question: Line = Field(description="a question that starts with 'How might we'")
    builds_on: Line = Field(description="the part of the point of view the question opens up")
    breadth: Literal["narrow", "balanced", "broad"] = Field(
        description="how much room for ideas the question leaves"
    )


class ProblemStatement(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Problem statement")

    point_of_view: Paragraph = Field(
        description="one sentence: the user needs the need because of the insight"
    )
    user: Line = Field(description="the user, described specifically")
    need: Line = Field(description="what the user needs, as a verb, not a solution")
    insight: Line = Field(description="the surprising reason behind the need")
    evidence: list[Line] = Field(
        min_length=1, max_length=6, description="observations that support the point of view"
    )
    how_might_we: list[HowMightWe] = Field(
        min_length=1, max_length=10, description="questions that open the problem to ideas"
    )
    success_criteria: list[Line] = Field(
        min_length=1, max_length=6, description="how to tell that a solution solved the problem"
    )


class ProblemStatementTool(Tool):
    key = "problem_statement"
    title = "Problem statement"
    description = (
        "A point-of-view statement (user, need, insight) and the 'how might we' questions "
        "it opens, with success criteria."
    )
    pack = "strategy"
    phase = "define"
    input_model = ProblemStatementInput
    output_model = ProblemStatement
    prompt_file = Path(__file__).parent / "prompts" / "problem_statement.j2"
    prompt_version = "1"
    # A question names the part of the point of view it opens up: a quote, not a copy.
    quality = QualitySpec(quoted=("how_might_we[].builds_on",))
