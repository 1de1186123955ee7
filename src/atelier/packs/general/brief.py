"""brief: a one-page product or business brief from an idea."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from atelier.ai.tools import Tool

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
# Output paragraphs: a brief is one page, and a bound keeps small models from rambling.
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]


class BriefInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Brief input")

    name: Short = Field(description="working name of the product or business")
    idea: Text = Field(description="the idea in a few sentences")
    audience: Text | None = Field(default=None, description="who it is for, if known")
    problem: Text | None = Field(default=None, description="the problem it solves, if known")
    constraints: list[Short] = Field(
        default_factory=list, max_length=20, description="budget, time, rules, technology"
    )


class BriefOutput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Brief")

    title: Short
    summary: Paragraph = Field(description="two or three sentences a busy reader understands")
    problem: Paragraph
    audience: Paragraph
    value_proposition: Paragraph
    goals: list[Short] = Field(min_length=1, max_length=8)
    risks: list[Short] = Field(min_length=1, max_length=8)
    next_steps: list[Short] = Field(min_length=1, max_length=8)


class BriefTool(Tool):
    key = "brief"
    title = "Brief"
    description = "A one-page product or business brief: problem, audience, value, goals, risks."
    pack = "general"
    phase = "define"
    input_model = BriefInput
    output_model = BriefOutput
    prompt_file = Path(__file__).parent / "prompts" / "brief.j2"
    prompt_version = "2"
