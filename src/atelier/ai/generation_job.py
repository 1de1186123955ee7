"""The "generate" job: a new AI version of the job's artifact, in one call or part by
part (``ai/sections.py``), checked (``ai/quality``) and stored with its findings."""

from __future__ import annotations

import uuid
from typing import Any

from atelier.ai.generation import checks_for, generator_for, prepare_call
from atelier.ai.runtime import AIRuntime
from atelier.ai.sections import SECTIONS, generate_by_sections, generation_mode
from atelier.artifacts.models import Artifact, GeneratedBy
from atelier.artifacts.versions import add_version
from atelier.core.db import session_scope
from atelier.core.errors import AtelierError
from atelier.jobs.runner import JobControl, JobFailed
from atelier.jobs.tasks import task


@task("generate")
async def run_generation_job(
    runtime: AIRuntime, job_id: uuid.UUID, control: JobControl
) -> dict[str, Any]:
    """The job handler for kind "generate": a new AI version of the job's artifact."""
    prepared = await prepare_call(runtime, job_id, control)
    tool = prepared.tool
    generator = generator_for(runtime, prepared)
    if generation_mode(prepared, runtime.settings.local_generation_mode) == SECTIONS:
        answer = await generate_by_sections(generator, prepared, control)
    else:
        messages = tool.render(prepared.inputs, prepared.context)
        answer = await generator.structured(
            messages=messages,
            output_model=tool.output_model,
            control=control,
            schema=tool.output_schema(),
            quality=checks_for(prepared, messages),
            language=prepared.language,
        )
    generation_id = answer.generation_id
    report = answer.quality
    try:
        content = tool.stored_output(answer.output, prepared.context).model_dump_json()
    except ValueError as error:  # e.g. what a compiling tool builds on is gone
        raise JobFailed("compile_failed", str(error)[:1000]) from None
    async with runtime.steps, session_scope(runtime.maker) as session:
        artifact_now = await session.get(Artifact, prepared.artifact_id)
        if artifact_now is None or artifact_now.deleted_at is not None:
            raise JobFailed("artifact_not_found", "the artifact was deleted while generating")
        try:
            version = await add_version(
                session,
                artifact=artifact_now,
                content=content,
                generated_by=GeneratedBy.AI,
                created_by_id=prepared.user_id,
                ai_generation_id=generation_id,
                quality=report.as_json() if report is not None else None,
            )
        except AtelierError as error:  # e.g. published while it was generating
            raise JobFailed(error.code, str(error.detail)) from None
        result = {
            "artifact_id": str(prepared.artifact_id),
            "version": version.version,
            "ai_generation_id": str(generation_id),
            "quality": {"score": report.score, "findings": len(report.findings)}
            if report is not None
            else None,
        }
        # The job ends in the version's own commit: both happen, or neither.
        await control.succeed_in(session, result)
    return result
