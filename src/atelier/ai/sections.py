"""Section-by-section generation: small models do smaller jobs.

A 0.5B model asked for a whole canvas at once loses the thread: it repeats rows, copies
its instructions, runs out of context. Here the output schema is split by its top-level
fields (a tool may group some: ``Tool.sections``); each part is its own call, with the
inputs, the parts already written, and only its own schema (in the prompt and in the
grammar). The parts are merged and validated as a whole, then checked like any answer.
Every call is audited and streamed like any other; the first call's schema repair and
quality repair apply per part.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from atelier.ai.generation import (
    Answer,
    Generator,
    Prepared,
    checks_for,
    quality_repair_messages,
)
from atelier.ai.local_models import CATALOG
from atelier.ai.providers.base import Message
from atelier.ai.quality.check import QualitySpec, Report, check_answer
from atelier.ai.tools import Tool
from atelier.jobs.runner import JobControl, JobFailed

ONE_SHOT = "one_shot"
SECTIONS = "sections"


def generation_mode(prepared: Prepared, local_default: str | None) -> str:
    """The provider config's ``generation_mode`` option, else (embedded model) the
    instance setting, else the mode measured best for the model; one call for the whole
    answer for every other provider."""
    chosen = (prepared.resolved.options or {}).get("generation_mode")
    if chosen in (ONE_SHOT, SECTIONS):
        return str(chosen)
    if prepared.resolved.kind != "local":
        return ONE_SHOT
    if local_default is not None:
        return local_default
    return measured_mode(prepared.resolved.settings.default_model)


def measured_mode(model: str | None) -> str:
    """The catalog's mode for a model (chosen with bench/quality.py); a GGUF file the
    catalog does not know gets one call for the whole answer."""
    entry = CATALOG.get(model or "")
    if entry is not None:
        return entry.generation_mode
    return ONE_SHOT


def section_groups(tool: Tool) -> list[tuple[str, ...]]:
    """The parts, in the output model's field order: declared groups where the group's
    first field stands, every other field alone."""
    fields = list(tool.output_model.model_fields)
    grouped = {name: group for group in tool.sections for name in group}
    out: list[tuple[str, ...]] = []
    for name in fields:
        group = grouped.get(name, (name,))
        if group not in out:
            out.append(tuple(n for n in group if n in fields))
    return out


def section_model(tool: Tool, names: tuple[str, ...]) -> type[BaseModel]:
    """The output model cut down to the fields of one part (their types and limits)."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in tool.output_model.model_fields.items()
        if name in names
    }
    model: type[BaseModel] = create_model(
        f"{tool.output_model.__name__}Part",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
    return model


def section_messages(
    tool: Tool,
    prepared: Prepared,
    names: tuple[str, ...],
    schema: dict[str, Any],
    written: dict[str, Any],
) -> list[Message]:
    messages = tool.render(prepared.inputs, prepared.context, schema_text=json.dumps(schema))
    ask = [f"Write only this part of the answer now: {', '.join(names)}."]
    if written:
        ask.append(
            "Already written (stay consistent with it; do not repeat it): "
            + json.dumps(written, ensure_ascii=False)
        )
    ask.append("Answer with one JSON object with exactly these keys, and nothing else.")
    return [*messages, Message(role="user", content="\n".join(ask))]


async def generate_by_sections(
    generator: Generator, prepared: Prepared, control: JobControl | None
) -> Answer:
    """Each part in its own call, then the merged answer validated and checked whole;
    findings only the whole answer shows (a pain reliever that copies a pain written in
    another part) send the parts they point at back once, with those findings."""
    tool = prepared.tool
    written: dict[str, Any] = {}
    last: Answer | None = None
    for names in section_groups(tool):
        model = section_model(tool, names)
        schema = model.model_json_schema()
        messages = section_messages(tool, prepared, names, schema, written)
        if control is not None:
            await control.emit("progress", {"step": "section", "fields": list(names)})
        last = await generator.structured(
            messages=messages,
            output_model=model,
            control=control,
            schema=schema,
            quality=_part_checks(prepared, schema, messages),
            language=prepared.language,
        )
        written.update(last.output.model_dump(mode="json"))
    assert last is not None, "an output model has at least one field"
    check = checks_for(prepared, tool.render(prepared.inputs, prepared.context))
    answer = Answer(_merge(tool, written), last.generation_id, check(_merge(tool, written)))
    if generator.runtime.settings.quality_repair_attempts > 0:
        answer = await _repair_whole(generator, prepared, control, answer, check)
    return answer


def _merge(tool: Tool, written: dict[str, Any]) -> BaseModel:
    try:
        return tool.output_model.model_validate(written)
    except ValidationError as error:
        raise JobFailed(
            "invalid_output", f"the parts did not merge into a valid answer: {error}"[:1000]
        ) from None


def top_field(path: str) -> str:
    """The output field a finding's path starts with: "value_map.x[2]" -> "value_map"."""
    return path.split(".", 1)[0].split("[", 1)[0]


async def _repair_whole(
    generator: Generator,
    prepared: Prepared,
    control: JobControl | None,
    answer: Answer,
    check: Any,
) -> Answer:
    """One more call for each part the whole answer's findings point at (its findings
    listed), then the merged answer checked again; the one with fewer findings stays."""
    report = answer.quality
    if report is None or not report.needs_repair:
        return answer
    tool = prepared.tool
    written = answer.output.model_dump(mode="json")
    flagged = {top_field(f.path) for f in report.findings}
    generation_id = answer.generation_id
    for names in section_groups(tool):
        if not flagged.intersection(names):
            continue
        part_findings = [f for f in report.findings if top_field(f.path) in names]
        model = section_model(tool, names)
        schema = model.model_json_schema()
        others = {k: v for k, v in written.items() if k not in names}
        part = {k: written[k] for k in names}
        messages = [
            *section_messages(tool, prepared, names, schema, others),
            *quality_repair_messages(
                json.dumps(part, ensure_ascii=False), Report(findings=part_findings)
            ),
        ]
        if control is not None:
            await control.emit(
                "quality_findings",
                {"part": list(names), "findings": [f.as_json() for f in part_findings]},
            )
        try:
            repaired = await generator.structured(
                messages=messages,
                output_model=model,
                control=control,
                schema=schema,
                language=prepared.language,
            )
        except JobFailed:  # the repair failed: the answer before it stands
            continue
        written.update(repaired.output.model_dump(mode="json"))
        generation_id = repaired.generation_id
    output = _merge(tool, written)
    candidate = Answer(output, generation_id, check(output))
    return candidate if candidate.better_than(answer) else answer


def _part_checks(prepared: Prepared, schema: dict[str, Any], messages: list[Message]) -> Any:
    """The quality checks on one part (its own schema; the tool's field roles)."""
    prompt = [m.content for m in messages]
    spec: QualitySpec = prepared.tool.quality

    def check(part: BaseModel) -> Report:
        return check_answer(
            part.model_dump(mode="json"),
            schema=schema,
            inputs=prepared.inputs,
            context=prepared.context,
            prompt=prompt,
            spec=spec,
            language=prepared.language,
        )

    return check
