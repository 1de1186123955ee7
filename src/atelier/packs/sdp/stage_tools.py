"""One tool per AI stage of the software design pipeline.

Every stage tool takes the stage's free-text user input and sees the active outputs of the
earlier stages it builds on (``uses``), loaded by its context builder. The engine does the
rest, as for any tool. The database stage is special: the SQL is compiled from the data
model without AI (see ``sqlgen``); the model only proposes extra indexes, which are
compiled the same way, so even a small local model yields SQL that runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from atelier.ai.quality.check import QualitySpec
from atelier.ai.tools import Tool, ToolContext
from atelier.packs.sdp import outputs
from atelier.packs.sdp.api_spec import ApiDesign
from atelier.packs.sdp.datamodel import DataModel, Identifier
from atelier.packs.sdp.stages import StageSpec, stage
from atelier.projects.models import Project
from atelier.stages.pipeline import earlier_outputs

PROMPTS = Path(__file__).parent / "prompts"
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class StageInput(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Stage input")

    user_input: Annotated[str, StringConstraints(strip_whitespace=True, max_length=8000)] = Field(
        default="",
        description=(
            "what you want from this stage, in your own words: goals, constraints, "
            "must-haves; earlier stages' outputs are included automatically"
        ),
    )


class StageTool(Tool):
    pack = "sdp"
    input_model = StageInput
    prompt_version = "1"
    spec: ClassVar[StageSpec]
    # Earlier stages (seed names) whose active outputs the prompt sees.
    uses: ClassVar[tuple[str, ...]] = ()

    async def context(self, ctx: ToolContext) -> dict[str, Any]:
        project = await ctx.session.get(Project, ctx.project_id)
        earlier = await earlier_outputs(ctx.session, ctx.project_id, self.uses)
        return {
            "project_name": project.name if project else "",
            "project_description": (project.description or "") if project else "",
            "earlier": earlier,
        }


class IndexProposal(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Index proposal")

    entity: Identifier = Field(description="the entity whose table gets the index")
    fields: list[Identifier] = Field(min_length=1, max_length=4, description="its fields")
    unique: bool = Field(description="true for a uniqueness rule, e.g. one email per user")
    reason: Line = Field(description="the query or rule it serves")


class DatabaseAdditions(BaseModel):
    """What the model may add to the compiled schema."""

    model_config = ConfigDict(extra="forbid", title="Database additions")

    indexes: list[IndexProposal] = Field(max_length=20)
    notes: list[Line] = Field(max_length=10, description="advice: partitioning, retention, ...")


class DatabaseSchema(BaseModel):
    """The database stage's stored output: the compiled SQL and what it was compiled from."""

    model_config = ConfigDict(extra="forbid", title="Database schema")

    sqlite: str = Field(max_length=400_000)
    postgresql: str = Field(max_length=400_000)
    indexes: list[IndexProposal] = Field(default_factory=list, max_length=50)
    notes: list[str] = Field(default_factory=list, max_length=50)
    data_model_version: int | None = None


class ProductTool(StageTool):
    spec = stage("product")
    key = spec.tool_key
    # 2: the notes on each part are marked as notes (a small model copied them as content).
    prompt_version = "2"
    title = "Product definition"
    description = (
        "The product: problem, solution, personas, prioritised features, non-goals, metrics."
    )
    output_model = outputs.ProductDefinition
    prompt_file = PROMPTS / "product.j2"
    uses = ()


class DataModelTool(StageTool):
    spec = stage("dataModel")
    key = spec.tool_key
    title = "Data model"
    description = (
        "Entities with typed fields and their relationships, in the SDP data-model format."
    )
    output_model = DataModel
    prompt_file = PROMPTS / "dataModel.j2"
    uses = ("product",)


class DatabaseTool(StageTool):
    spec = stage("database")
    key = spec.tool_key
    title = "Database schema"
    description = (
        "SQL for SQLite and PostgreSQL compiled from the data model, plus proposed indexes."
    )
    output_model = DatabaseAdditions
    prompt_file = PROMPTS / "database.j2"
    uses = ("dataModel",)

    def stored_output(self, output: BaseModel, context: dict[str, Any]) -> BaseModel:
        """The SQL compiled from the data model, with the proposed indexes that fit it
        (the compiler skips, with a comment, any naming a table or column that is not
        there)."""
        from atelier.packs.sdp.sqlgen import IndexSpec, compile_all

        assert isinstance(output, DatabaseAdditions)
        source = context.get("earlier", {}).get("dataModel")
        if not source:
            raise ValueError("the data model has no output to compile")
        indexes = [
            IndexSpec(table=i.entity, columns=tuple(i.fields), unique=i.unique, reason=i.reason)
            for i in output.indexes
        ]
        sql = compile_all(DataModel.model_validate(source), extra_indexes=indexes)
        return DatabaseSchema(
            sqlite=sql["sqlite"],
            postgresql=sql["postgresql"],
            indexes=output.indexes,
            notes=list(output.notes),
        )


class ApiTool(StageTool):
    spec = stage("api")
    key = spec.tool_key
    title = "API design"
    description = (
        "REST endpoints over the data model; an OpenAPI 3.1 document is rendered from them."
    )
    output_model = ApiDesign
    prompt_file = PROMPTS / "api.j2"
    uses = ("product", "dataModel")


class StackTool(StageTool):
    spec = stage("stack")
    key = spec.tool_key
    title = "Tech stack"
    description = "Technology choices per layer, each with its reason and alternatives."
    output_model = outputs.StackDecision
    prompt_file = PROMPTS / "stack.j2"
    uses = ("product",)
    # Choosing the technology the prompt names as an example is a choice, not a copy.
    quality = QualitySpec(quoted=("choices[].choice",))


class DesignTool(StageTool):
    spec = stage("design")
    key = spec.tool_key
    title = "Design system"
    description = "Principles, colour tokens, type, spacing and components."
    output_model = outputs.DesignSystem
    prompt_file = PROMPTS / "design.j2"
    uses = ("product",)
    # A conventional spacing scale or type ramp may well be the prompt's example.
    quality = QualitySpec(quoted=("spacing", "typography[]"))


class SectionsTool(StageTool):
    spec = stage("sections")
    key = spec.tool_key
    title = "Sections & screens"
    description = "The app's sections with their screens and the API endpoints each one calls."
    output_model = outputs.SectionsPlan
    prompt_file = PROMPTS / "sections.j2"
    uses = ("product", "api")


class InfrastructureTool(StageTool):
    spec = stage("infrastructure")
    key = spec.tool_key
    title = "Infrastructure"
    description = "Environments, services, CI/CD, configuration and monitoring."
    output_model = outputs.Infrastructure
    prompt_file = PROMPTS / "infrastructure.j2"
    uses = ("product", "stack")
    quality = QualitySpec(quoted=("services[].image",))  # "python:3.12-slim" is a choice


STAGE_TOOLS: tuple[type[StageTool], ...] = (
    ProductTool,
    DataModelTool,
    DatabaseTool,
    ApiTool,
    StackTool,
    DesignTool,
    SectionsTool,
    InfrastructureTool,
)


def tools() -> list[StageTool]:
    """The pack's tools (``PackSpec.tools``): one per AI stage."""
    return [tool() for tool in STAGE_TOOLS]
