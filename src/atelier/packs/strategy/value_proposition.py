"""value_proposition: a value proposition canvas, customer profile against value map."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atelier.ai.quality.check import QualitySpec
from atelier.ai.tools import Tool
from atelier.packs.strategy._shared import Item, Level, Line, Name, Paragraph, Text


class ValuePropositionInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Value proposition input")

    offering: Name = Field(description="the product or service the canvas is about")
    customer_segment: Item = Field(description="the one customer segment the canvas is for")
    description: Text | None = Field(
        default=None, description="what the offering does and how, in a few sentences"
    )
    known_jobs: list[Item] = Field(
        default_factory=list, max_length=12, description="jobs the customers are known to do"
    )
    known_pains: list[Item] = Field(
        default_factory=list, max_length=12, description="pains already heard from customers"
    )
    known_gains: list[Item] = Field(
        default_factory=list, max_length=12, description="gains customers are known to want"
    )
    features: list[Item] = Field(
        default_factory=list, max_length=12, description="existing or planned features"
    )
    alternatives: list[Item] = Field(
        default_factory=list,
        max_length=12,
        description="what customers use today instead: competitors, workarounds, doing nothing",
    )


class CustomerJob(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Customer job")

    job: Line = Field(description="what the customer is trying to get done, in their words")
    kind: Literal["functional", "social", "emotional", "supporting"] = Field(
        description="the type of job"
    )
    importance: Level = Field(description="how important the job is to the customer")


class Pain(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Pain")

    pain: Line = Field(description="a bad outcome, risk or obstacle around a job")
    severity: Level = Field(description="how badly it hurts the customer")


class Gain(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Gain")

    gain: Line = Field(description="an outcome or benefit the customer wants")
    kind: Literal["required", "expected", "desired", "unexpected"] = Field(
        description="required to work at all, expected, desired, or beyond expectations"
    )
    relevance: Level = Field(description="how much the customer cares about it")


class CustomerProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Customer profile")

    customer_jobs: list[CustomerJob] = Field(
        min_length=1, max_length=8, description="jobs the customers are trying to get done"
    )
    pains: list[Pain] = Field(
        min_length=1, max_length=8, description="what annoys them before, during and after a job"
    )
    gains: list[Gain] = Field(
        min_length=1, max_length=8, description="outcomes and benefits they want"
    )


class ProductOrService(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Product or service")

    name: Line = Field(description="the product, service or feature")
    description: Line = Field(description="what it is and which job it helps with")


class PainReliever(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Pain reliever")

    reliever: Line = Field(description="how the offering removes or reduces a pain")
    pain: Line = Field(description="the customer-profile pain it relieves, quoted as written")


class GainCreator(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Gain creator")

    creator: Line = Field(description="how the offering produces a gain")
    gain: Line = Field(description="the customer-profile gain it creates, quoted as written")


class ValueMap(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Value map")

    products_and_services: list[ProductOrService] = Field(
        min_length=1, max_length=8, description="what the value proposition is built on"
    )
    pain_relievers: list[PainReliever] = Field(
        min_length=1, max_length=8, description="how the offering relieves customer pains"
    )
    gain_creators: list[GainCreator] = Field(
        min_length=1, max_length=8, description="how the offering creates customer gains"
    )


class FitAssessment(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Fit assessment")

    addressed_pains: list[Line] = Field(
        min_length=1, max_length=8, description="customer-profile pains the value map relieves"
    )
    addressed_gains: list[Line] = Field(
        min_length=1, max_length=8, description="customer-profile gains the value map creates"
    )
    gaps: list[Line] = Field(
        min_length=1,
        max_length=8,
        description="important jobs, pains or gains nothing in the value map answers",
    )
    fit_level: Literal["strong", "partial", "weak"] = Field(
        description="how well the value map matches what matters most to the customer"
    )
    rationale: Paragraph = Field(description="why the fit is at this level")


class ValuePropositionCanvas(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Value proposition canvas")

    customer_segment: Line = Field(description="the customer segment the canvas is for")
    value_proposition: Paragraph = Field(
        description="one or two sentences: for whom, which job, how it beats the alternatives"
    )
    customer_profile: CustomerProfile = Field(description="the customer side of the canvas")
    value_map: ValueMap = Field(description="the offering side of the canvas")
    fit: FitAssessment = Field(description="how well the two sides match")


class ValuePropositionTool(Tool):
    key = "value_proposition"
    title = "Value proposition canvas"
    description = (
        "A customer profile (jobs, pains, gains) matched against a value map (products, "
        "pain relievers, gain creators), with an assessment of the fit and its gaps."
    )
    pack = "strategy"
    phase = "define"
    input_model = ValuePropositionInput
    output_model = ValuePropositionCanvas
    prompt_file = Path(__file__).parent / "prompts" / "value_proposition.j2"
    prompt_version = "1"
    # A reliever or creator says how the offering answers a pain or gain; copying the
    # pain or gain back (from the profile or the user's input) answers nothing.
    quality = QualitySpec(
        transforms=(
            ("value_map.pain_relievers[].reliever", "output.customer_profile.pains[].pain"),
            ("value_map.pain_relievers[].reliever", "inputs.known_pains[]"),
            ("value_map.gain_creators[].creator", "output.customer_profile.gains[].gain"),
            ("value_map.gain_creators[].creator", "inputs.known_gains[]"),
        ),
        quoted=(
            "value_map.pain_relievers[].pain",
            "value_map.gain_creators[].gain",
            "fit.addressed_pains[]",
            "fit.addressed_gains[]",
        ),
    )
