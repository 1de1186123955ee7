"""Tools: a structured input, a structured output and a versioned prompt.

A tool is one small class; the engine does the rest (validation, generation, repair,
versions, audit). Each pack lists its tools in its ``PackSpec`` (``tools``); the
registry here holds the tools of every installed pack (``atelier.core.packs``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import jinja2
import structlog
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.ai.providers.base import Message
from atelier.ai.quality.check import QualitySpec
from atelier.core.packs import packs, resolve

log = structlog.get_logger("atelier.tools")


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a context builder may look at: the artifact being generated and its project."""

    session: AsyncSession
    project_id: Any
    artifact_id: Any
    stage_id: Any


class Tool:
    key: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    pack: ClassVar[str] = "general"
    phase: ClassVar[str | None] = None
    input_model: ClassVar[type[BaseModel]]
    output_model: ClassVar[type[BaseModel]]
    prompt_file: ClassVar[Path]
    prompt_version: ClassVar[str]
    # What the quality checks should know about the output's fields (ai/quality/check.py):
    # which must transform their source rather than copy it, which quote verbatim.
    quality: ClassVar[QualitySpec] = QualitySpec()
    # Section-by-section generation (ai/sections.py): top-level output fields written
    # together in one call. Fields in no group are written one per call, in order.
    sections: ClassVar[tuple[tuple[str, ...], ...]] = ()
    # Plan metrics (accounts/plans.py) a generation by this tool counts besides
    # "generations", e.g. ("analyses",) for the tools a pack sells as analyses.
    meters: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def prompt_name(cls) -> str:
        return f"{cls.key}@{cls.prompt_version}"

    @classmethod
    def output_schema(cls) -> dict[str, Any]:
        """The output model's JSON schema, built once per tool (it is on every call)."""
        schema = _schemas.get(cls)
        if schema is None:
            schema = _schemas[cls] = cls.output_model.model_json_schema()
        return schema

    def stored_output(self, output: BaseModel, context: dict[str, Any]) -> BaseModel:
        """What the new version holds: the answer itself, unless the tool compiles it into
        something else (e.g. SQL compiled from the data model plus the proposed indexes)."""
        return output

    def render_markdown(self, output: dict[str, Any]) -> str | None:
        """Markdown for an output, for exports; None lets the generic schema-driven renderer
        (atelier.exports.markdown) do it. Override only when a tool needs a special layout."""
        return None

    @classmethod
    def output_schema_text(cls) -> str:
        """The schema as the prompts embed it, serialised once per tool."""
        text = _schema_texts.get(cls)
        if text is None:
            # One line: indentation costs tokens, and a small local model's context
            # must hold the schema, the inputs and the whole answer.
            text = _schema_texts[cls] = json.dumps(cls.output_schema(), ensure_ascii=False)
        return text

    async def context(self, ctx: ToolContext) -> dict[str, Any]:
        """Extra template variables, e.g. earlier stages' outputs. None by default."""
        return {}

    def render(
        self, inputs: dict[str, Any], context: dict[str, Any], *, schema_text: str | None = None
    ) -> list[Message]:
        """The prompt's messages; ``schema_text`` replaces the output schema in them (a
        section's own schema, when the answer is written part by part)."""
        # Validated first: every field is present (defaults filled) for the template.
        inputs = self.input_model.model_validate(inputs).model_dump(mode="json")
        template = _environment(self.prompt_file.parent).get_template(self.prompt_file.name)
        variables = {
            "tool": self,
            "inputs": inputs,
            "input_json": json.dumps(inputs, indent=2, ensure_ascii=False),
            "schema_json": schema_text or self.output_schema_text(),
            "context": context,
        }
        messages = []
        for role in ("system", "user"):
            block = template.blocks.get(role)
            if block is None:
                continue
            text = "".join(block(template.new_context(variables))).strip()
            if text:
                messages.append(Message(role=role, content=text))
        return messages


_environments: dict[Path, jinja2.Environment] = {}
_schemas: dict[type[Tool], dict[str, Any]] = {}
_schema_texts: dict[type[Tool], str] = {}


def _environment(folder: Path) -> jinja2.Environment:
    env = _environments.get(folder)
    if env is None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # prompts are plain text, not HTML
            keep_trailing_newline=True,
        )
        _environments[folder] = env
    return env


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool) -> None:
        if tool.key in self._tools and type(self._tools[tool.key]) is not type(tool):
            raise ValueError(f"two tools claim the key {tool.key!r}")
        self._tools[tool.key] = tool

    def get(self, key: str) -> Tool | None:
        return self._tools.get(key)

    def all(self) -> Iterable[Tool]:
        return sorted(self._tools.values(), key=lambda t: (t.pack, t.key))


registry = ToolRegistry()
_loaded = False


def load_tools() -> ToolRegistry:
    """The tools of every installed pack (``PackSpec.tools``), registered once."""
    global _loaded
    if _loaded:
        return registry
    for spec in packs.all():
        if not spec.tools:
            continue
        try:
            for tool in resolve(spec.tools)():
                registry.register(tool)
        except Exception:
            log.exception("pack_tools_failed_to_load", pack=spec.key)
    _loaded = True
    return registry
