"""business_model_canvas: the nine building blocks of a business model."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atelier.ai.tools import Tool
from atelier.packs.strategy._shared import Item, Line, Name, Paragraph, Text


class BusinessModelCanvasInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Business model canvas input")

    business: Name = Field(description="the name of the business or product")
    idea: Text = Field(description="what the business does and for whom, in a few sentences")
    customers: Text | None = Field(default=None, description="who the customers are, if known")
    value_proposition: Text | None = Field(
        default=None, description="why customers would choose it, if known"
    )
    revenue_ideas: list[Item] = Field(
        default_factory=list, max_length=12, description="how it could make money"
    )
    known_partners: list[Item] = Field(
        default_factory=list, max_length=12, description="suppliers, allies or platforms involved"
    )
    constraints: list[Item] = Field(
        default_factory=list,
        max_length=12,
        description="budget, team, regulation, technology or market limits",
    )


class Channel(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Channel")

    channel: Line = Field(description="how the business reaches its customers")
    phase: Literal["awareness", "evaluation", "purchase", "delivery", "after_sales"] = Field(
        description="the step of the customer's buying journey the channel serves"
    )


class RevenueStream(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Revenue stream")

    stream: Line = Field(description="what customers pay for")
    pricing: Line = Field(description="how it is priced, e.g. subscription, per use, with amounts")


class Cost(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Cost")

    cost: Line = Field(description="a cost of running the business model")
    kind: Literal["fixed", "variable"] = Field(description="whether it grows with volume")


class BusinessModelCanvas(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Business model canvas")

    summary: Paragraph = Field(description="how the business creates, delivers and captures value")
    customer_segments: list[Line] = Field(
        min_length=1, max_length=6, description="the groups of people or organizations served"
    )
    value_propositions: list[Line] = Field(
        min_length=1, max_length=6, description="the value offered to each segment"
    )
    channels: list[Channel] = Field(
        min_length=1, max_length=8, description="how the value propositions reach the segments"
    )
    customer_relationships: list[Line] = Field(
        min_length=1, max_length=6, description="how each segment is won, kept and grown"
    )
    revenue_streams: list[RevenueStream] = Field(
        min_length=1, max_length=6, description="how the business earns money from each segment"
    )
    key_resources: list[Line] = Field(
        min_length=1, max_length=8, description="the assets the model cannot work without"
    )
    key_activities: list[Line] = Field(
        min_length=1, max_length=8, description="what the business must do well"
    )
    key_partnerships: list[Line] = Field(
        min_length=1, max_length=8, description="partners and suppliers, and what they bring"
    )
    cost_structure: list[Cost] = Field(
        min_length=1, max_length=8, description="the most important costs of the model"
    )
    riskiest_assumptions: list[Line] = Field(
        min_length=1, max_length=6, description="what must be true for the model to work"
    )


class BusinessModelCanvasTool(Tool):
    key = "business_model_canvas"
    title = "Business model canvas"
    description = (
        "The nine blocks of a business model: segments, value propositions, channels, "
        "relationships, revenue, resources, activities, partners and costs."
    )
    pack = "strategy"
    phase = "develop"
    input_model = BusinessModelCanvasInput
    output_model = BusinessModelCanvas
    prompt_file = Path(__file__).parent / "prompts" / "business_model_canvas.j2"
    prompt_version = "1"
