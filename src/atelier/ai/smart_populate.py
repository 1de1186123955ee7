"""Smart-populate: a starting input for the next iteration of an artifact.

Three modes (seed 000): ``edit_inputs`` hands back the artifact's own inputs;
``continue_from_results`` asks the model to turn the output into a richer input;
``merge_enhance`` asks it to combine inputs and output. The AI modes are jobs like any
generation (budget, provider resolution, audit rows, repair loop) whose result is a
*proposal* validated against the tool's input model; nothing is saved. Generating from
a proposal creates a child artifact (``parent_id`` + the mode's derivation). Nothing
here is tool-specific: the tool's input model is the output schema of the call.
"""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel, ValidationError

from atelier.ai.generation import Prepared, QualityCheck, generator_for, prepare_call
from atelier.ai.providers.base import Message
from atelier.ai.quality.check import Finding, Report, check_answer
from atelier.ai.runtime import AIRuntime
from atelier.ai.tools import Tool
from atelier.artifacts.derivation import JOB_KIND, Mode
from atelier.jobs.runner import JobControl, JobFailed
from atelier.jobs.tasks import task

PROMPT_FILE = Path(__file__).parent / "prompts" / "smart_populate.j2"
PROMPT_VERSION = "2"  # 2: continue_from_results also sees the inputs
# Outputs are embedded in the prompt; a bound keeps a huge artifact from blowing the
# model's context.
MAX_EMBEDDED_CHARS = 12_000


def prompt_name(mode: Mode) -> str:
    return f"smart_populate.{mode.value}@{PROMPT_VERSION}"


@cache
def _template() -> jinja2.Template:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PROMPT_FILE.parent),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # prompts are plain text
    )
    return environment.get_template(PROMPT_FILE.name)


def _embedded(data: Any) -> str:
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return text if len(text) <= MAX_EMBEDDED_CHARS else text[:MAX_EMBEDDED_CHARS] + "\n…"


def render(
    tool: Tool, mode: Mode, *, inputs: dict[str, Any], output: dict[str, Any]
) -> list[Message]:
    template = _template()
    variables = {
        "tool": tool,
        "mode": mode.value,
        "input_schema_json": json.dumps(tool.input_model.model_json_schema(), indent=2),
        "input_json": _embedded(inputs),
        "output_json": _embedded(output),
    }
    messages = []
    for role in ("system", "user"):
        block = template.blocks[role]
        text = "".join(block(template.new_context(variables))).strip()
        messages.append(Message(role=role, content=text))
    return messages


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def fill_gaps(
    proposal: dict[str, Any], inputs: dict[str, Any], model: type[BaseModel]
) -> tuple[dict[str, Any], list[str]]:
    """A next iteration's input is never poorer than the last one: a field the proposal
    leaves empty keeps the previous input's value (small models drop fields they found
    hard). Returns the merged input and the fields taken over, or the proposal unchanged
    if the merge would not fit the input model (the tool changed since)."""
    kept = [
        name
        for name in model.model_fields
        if _is_empty(proposal.get(name)) and not _is_empty(inputs.get(name))
    ]
    if not kept:
        return proposal, []
    merged = {**proposal, **{name: inputs[name] for name in kept}}
    try:
        return model.model_validate(merged).model_dump(mode="json"), kept
    except ValidationError:
        return proposal, []


def changed_fields(proposal: dict[str, Any], inputs: dict[str, Any]) -> list[str]:
    """The top-level fields where the proposal differs from the inputs it started from."""
    return [
        name
        for name in proposal
        if json.dumps(proposal.get(name), sort_keys=True)
        != json.dumps(inputs.get(name), sort_keys=True)
    ]


NO_CHANGE = (
    "The proposal is the same as the current inputs: add to or improve at least one field "
    "from what the results say."
)


def proposal_checks(prepared: Prepared, messages: list[Message]) -> QualityCheck:
    """The answer checks on a proposal, plus one of its own: an AI mode must add
    something, so a proposal equal to the inputs goes back once with that finding."""
    tool = prepared.tool
    prompt = [m.content for m in messages]

    def check(proposal: BaseModel) -> Report:
        data = proposal.model_dump(mode="json")
        report = check_answer(
            data,
            schema=tool.input_model.model_json_schema(),
            inputs={"inputs": prepared.inputs, "output": prepared.output_data},
            prompt=prompt,
            language=prepared.language,
        )
        filled, _ = fill_gaps(data, prepared.inputs, tool.input_model)
        if not changed_fields(filled, prepared.inputs):
            report.findings.insert(0, Finding("no_change", "(root)", NO_CHANGE))
        return report

    return check


def _mode_of(payload: dict[str, Any]) -> Mode:
    try:
        return Mode(str(payload.get("mode")))
    except ValueError:
        mode = payload.get("mode")
        raise JobFailed("invalid_mode", f"unknown smart-populate mode {mode!r}") from None


@task(JOB_KIND)
async def run_smart_populate_job(
    runtime: AIRuntime, job_id: uuid.UUID, control: JobControl
) -> dict[str, Any]:
    """The job handler for kind "smart_populate": a proposal, in the job's result."""
    prepared = await prepare_call(
        runtime,
        job_id,
        control,
        prompt_template=lambda _tool, payload: prompt_name(_mode_of(payload)),
        # The old inputs may no longer fit the tool (it changed): the model fixes them.
        validate_inputs=False,
    )
    mode = _mode_of(prepared.payload)
    if prepared.output_data is None:
        raise JobFailed("no_output", "the artifact has no output to start from")
    tool = prepared.tool
    messages = render(tool, mode, inputs=prepared.inputs, output=prepared.output_data)
    answer = await generator_for(runtime, prepared).structured(
        messages=messages,
        output_model=tool.input_model,
        control=control,
        schema=tool.input_model.model_json_schema(),
        quality=proposal_checks(prepared, messages),
        language=prepared.language,
    )
    generation_id = answer.generation_id
    proposal = answer.output.model_dump(mode="json")
    filled, kept = fill_gaps(proposal, prepared.inputs, tool.input_model)
    changed = changed_fields(filled, prepared.inputs)
    report = answer.quality
    return {
        "mode": mode.value,
        "derivation": mode.derivation.value,
        "artifact_id": str(prepared.artifact_id),
        "proposal": filled,
        # Fields the proposal left empty, filled from the previous inputs.
        "kept_from_inputs": kept,
        # What the proposal changed, field by field; none: the AI found nothing to add.
        "changed_fields": changed,
        "nothing_added": not changed,
        "quality": report.as_json() if report is not None else None,
        "ai_generation_id": str(generation_id),
    }
