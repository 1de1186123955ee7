"""One generation: render → call → validate → repair → store, with an audit row per call.

Nothing here is tool-specific: the tool supplies the input and output models and the
prompt; every pack generates through this. Provider calls happen outside any database
transaction; each audit row commits on its own so failures stay visible, and the new
version is written in one short transaction at the end. A failed, timed-out or
cancelled generation therefore leaves the artifact's inputs and active version as
they were.

Each of those database steps holds one of ``runtime.steps`` (a few per process). With
hundreds of generations in flight, the ones whose provider answered wait for a slot
instead of all running their bookkeeping in one turn of the event loop, which would hold
up every API request queued behind them for as long.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import User
from atelier.ai.budgets import check_budget
from atelier.ai.models import AIGeneration, GenerationStatus
from atelier.ai.pricing import estimate_cost
from atelier.ai.providers.base import (
    GenerationRequest,
    GenerationResult,
    Message,
    ProviderError,
    ProviderTimeout,
)
from atelier.ai.quality.check import Report, check_answer
from atelier.ai.resolve import ResolvedProvider, resolve_provider
from atelier.ai.retry import RetryPolicy, call_with_retries
from atelier.ai.runtime import AIRuntime
from atelier.ai.tools import Tool, ToolContext
from atelier.artifacts.models import Artifact
from atelier.core.crypto import redact
from atelier.core.db import session_scope
from atelier.core.errors import AtelierError
from atelier.core.languages import DEFAULT_LANGUAGE, LANGUAGES
from atelier.jobs.models import Job
from atelier.jobs.runner import JobControl, JobFailed
from atelier.projects.models import Project

PROGRESS_FLUSH_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class CallRecord:
    """Who and what an audit row is about."""

    user_id: uuid.UUID
    organization_id: uuid.UUID | None
    project_id: uuid.UUID | None
    artifact_id: uuid.UUID | None
    stage_id: uuid.UUID | None
    job_id: uuid.UUID | None
    prompt_template: str
    conversation_id: uuid.UUID | None = None


def _error_list(error: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in e["loc"]) or "(root)", "message": e["msg"]}
        for e in error.errors()
    ][:20]


def parse_output(text: str, model: type[BaseModel]) -> BaseModel:
    """The answer as the tool's output model. Tolerates a fenced code block around it."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`")
        body = body.split("\n", 1)[1] if "\n" in body else body
        body = body.rsplit("```", 1)[0]
    return model.model_validate_json(body)


def repair_messages(text: str, error: ValidationError | ValueError) -> list[Message]:
    if isinstance(error, ValidationError):
        problems = json.dumps(_error_list(error), indent=1)
    else:
        problems = str(error)
    return [
        Message(role="assistant", content=text[:8000]),
        Message(
            role="user",
            content=(
                "That answer does not match the required JSON schema. Problems:\n"
                f"{problems}\n"
                "Answer again with only the corrected JSON object."
            ),
        ),
    ]


def quality_repair_messages(text: str, report: Report) -> list[Message]:
    """The answer back to the model with the checks' findings: rewrite those parts only."""
    problems = "\n".join(f"- {f.path}: {f.message}" for f in report.findings[:20])
    return [
        Message(role="assistant", content=text[:8000]),
        Message(
            role="user",
            content=(
                "That answer fits the schema, but these parts are not usable yet:\n"
                f"{problems}\n"
                "Answer again with the whole JSON object. Rewrite only the parts listed, "
                "in your own words and specific to this project; keep everything else."
            ),
        ),
    ]


@dataclass(frozen=True, slots=True)
class Answer:
    """A schema-valid answer, the audit row of its call, and the quality checks' report
    (None when the caller asked for no checks)."""

    output: BaseModel
    generation_id: uuid.UUID
    quality: Report | None = None

    def better_than(self, other: Answer) -> bool:
        if self.quality is None or other.quality is None:
            return False
        return self.quality.better_than(other.quality)


QualityCheck = Callable[[BaseModel], Report]


class Generator:
    """Calls a provider for one structured answer, recording every call."""

    def __init__(self, runtime: AIRuntime, resolved: ResolvedProvider, record: CallRecord):
        self.runtime = runtime
        self.resolved = resolved
        self.record = record
        self.provider = runtime.providers.get(resolved.cache_key, resolved.settings)
        self.call_number = 0
        self.last_generation_id: uuid.UUID | None = None

    def clean(self, message: str) -> str:
        """A provider's error message without the API key, should the provider echo it."""
        return redact(message, self.resolved.settings.api_key)

    async def audit(
        self,
        *,
        status: GenerationStatus,
        started: float,
        result: GenerationResult | None = None,
        error: str | None = None,
        control: JobControl | None = None,
        events: list[tuple[str, dict[str, Any]]] | None = None,
    ) -> uuid.UUID:
        """Write the call's audit row (and ``events`` of the job, in the same commit)."""
        self.call_number += 1
        model = result.model if result else self.resolved.settings.default_model
        tokens_in = result.input_tokens if result else 0
        tokens_out = result.output_tokens if result else 0
        cost = (
            estimate_cost(
                provider=self.resolved.kind,
                model=model,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                options=self.resolved.options,
            )
            if result
            else Decimal(0)
        )
        row = AIGeneration(
            user_id=self.record.user_id,
            organization_id=self.record.organization_id,
            project_id=self.record.project_id,
            artifact_id=self.record.artifact_id,
            stage_id=self.record.stage_id,
            job_id=self.record.job_id,
            conversation_id=self.record.conversation_id,
            provider_id=self.resolved.config_id,
            provider=self.resolved.kind,
            model=model[:200],
            prompt_template=self.record.prompt_template,
            input_tokens=tokens_in,
            output_tokens=tokens_out,
            total_tokens=tokens_in + tokens_out,
            estimated_cost=cost,
            duration_ms=int((time.monotonic() - started) * 1000),
            status=status,
            error_message=error[:4000] if error else None,
            attempt=self.call_number,
        )
        async with self.runtime.steps, session_scope(self.runtime.maker) as session:
            session.add(row)
            if control is not None:
                for type_, data in events or ():
                    control.add_event(session, type_, data)
        if control is not None and events:
            control.events.announce(control.job_id)
        self.last_generation_id = row.id
        return row.id

    async def structured(
        self,
        *,
        messages: list[Message],
        output_model: type[BaseModel],
        control: JobControl | None = None,
        max_tokens: int = 4096,
        schema: dict[str, Any] | None = None,
        quality: QualityCheck | None = None,
        language: str | None = None,
    ) -> Answer:
        """Call until the answer fits the schema (``generation_max_attempts`` calls at
        most). With ``quality``, a valid answer with findings goes back once more with
        them (``quality_repair_attempts``); the answer with the fewest findings wins, and
        a repair call that fails keeps the answer before it."""
        settings = self.runtime.settings
        schema = schema or output_model.model_json_schema()
        conversation = list(messages)
        policy = RetryPolicy(max_retries=settings.provider_max_retries)
        last_problem = "no answer"
        schema_failures = 0
        repairs_left = settings.quality_repair_attempts if quality is not None else 0
        best: Answer | None = None
        attempt = 0
        while schema_failures < settings.generation_max_attempts:
            attempt += 1
            request = GenerationRequest(
                messages=conversation,
                json_schema=schema,
                schema_name=output_model.__name__,
                max_tokens=max_tokens,
                timeout=self.resolved.settings.timeout,
                language=language,
            )
            stream = _ProgressStream(control, attempt) if control else None
            call = _Call(self, request, stream, control, attempt)
            try:
                result = await call_with_retries(call.run, policy=policy, on_failure=call.failed)
            except ProviderError as error:
                if best is not None:
                    return best
                raise JobFailed(error.code, self.clean(error.message)) from None
            # The rest of the streamed text goes out with the audit row (one commit).
            pending = [stream.take()] if stream is not None and stream.buffer else []
            try:
                output = parse_output(result.text, output_model)
            except (ValidationError, ValueError) as problem:
                last_problem = str(problem)[:2000]
                await self.audit(
                    status=GenerationStatus.ERROR,
                    started=call.started,
                    result=result,
                    error=f"answer does not match the schema: {last_problem}",
                    control=control,
                    events=pending,
                )
                if control is not None:
                    await control.emit(
                        "attempt_failed",
                        {
                            "attempt": attempt,
                            "reason": "invalid_output",
                            "errors": _error_list(problem)
                            if isinstance(problem, ValidationError)
                            else [{"field": "(root)", "message": str(problem)[:500]}],
                        },
                    )
                if best is not None:  # a quality repair that broke the JSON
                    return best
                schema_failures += 1
                conversation = [*conversation, *repair_messages(result.text, problem)]
                continue
            generation_id = await self.audit(
                status=GenerationStatus.SUCCESS,
                started=call.started,
                result=result,
                control=control,
                events=pending,
            )
            answer = Answer(output, generation_id, quality(output) if quality else None)
            if best is None or answer.better_than(best):
                best = answer
            report = answer.quality
            if report is None or not report.needs_repair or repairs_left == 0:
                return best
            repairs_left -= 1
            if control is not None:
                await control.emit(
                    "quality_findings",
                    {
                        "attempt": attempt,
                        "score": report.score,
                        "findings": [f.as_json() for f in report.findings[:30]],
                    },
                )
            conversation = [*conversation, *quality_repair_messages(result.text, report)]
        raise JobFailed(
            "invalid_output",
            f"the model's answer did not match the schema after "
            f"{settings.generation_max_attempts} attempts: {last_problem[:500]}",
        )


class _Call:
    """One provider call of one attempt, timed, with its failures audited."""

    def __init__(
        self,
        generator: Generator,
        request: GenerationRequest,
        stream: _ProgressStream | None,
        control: JobControl | None,
        attempt: int,
    ) -> None:
        self.generator = generator
        self.request = request
        self.stream = stream
        self.control = control
        self.attempt = attempt
        self.started = time.monotonic()

    async def run(self) -> GenerationResult:
        self.started = time.monotonic()
        on_text = self.stream.on_text if self.stream else None
        try:
            return await self.generator.provider.generate(self.request, on_text=on_text)
        except asyncio.CancelledError:
            # Every call gets its row, a cancelled one too (it may already have cost).
            await asyncio.shield(
                self.generator.audit(
                    status=GenerationStatus.ERROR, started=self.started, error="cancelled"
                )
            )
            raise

    async def failed(self, error: ProviderError, delay: float | None) -> None:
        if self.stream is not None:
            # Text of a call that broke off mid-stream is not part of any answer; the
            # attempt_failed event tells followers to drop what they already showed.
            self.stream.reset()
        timed_out = isinstance(error, ProviderTimeout)
        message = self.generator.clean(error.message)
        await self.generator.audit(
            status=GenerationStatus.TIMEOUT if timed_out else GenerationStatus.ERROR,
            started=self.started,
            error=message,
        )
        if self.control is not None:
            await self.control.emit(
                "attempt_failed",
                {
                    "attempt": self.attempt,
                    "reason": error.code,
                    "message": message,
                    "retry_in_seconds": delay,
                },
            )


class _ProgressStream:
    """Streams text deltas to the job's events in batches (not one row per token)."""

    def __init__(self, control: JobControl, attempt: int) -> None:
        self.control = control
        self.attempt = attempt
        self.buffer: list[str] = []
        self.chars = 0
        self.last_flush = time.monotonic()

    async def on_text(self, delta: str) -> None:
        self.buffer.append(delta)
        self.chars += len(delta)
        if time.monotonic() - self.last_flush >= PROGRESS_FLUSH_SECONDS:
            await self.flush()

    def reset(self) -> None:
        self.buffer = []
        self.chars = 0

    def take(self) -> tuple[str, dict[str, Any]]:
        """The buffered text as a progress event, for the caller to write."""
        text, self.buffer = "".join(self.buffer), []
        self.last_flush = time.monotonic()
        return "progress", {"attempt": self.attempt, "text": text, "chars": self.chars}

    async def flush(self) -> None:
        if self.buffer:
            await self.control.emit(*self.take())


async def _load_for_generation(
    session: AsyncSession, runtime: AIRuntime, job_id: uuid.UUID
) -> tuple[Job, Artifact, Project, Tool]:
    job = await session.get(Job, job_id)
    if job is None or job.artifact_id is None:
        raise JobFailed("artifact_not_found", "the job has no artifact")
    artifact = await session.get(Artifact, job.artifact_id)
    project = await session.get(Project, artifact.project_id) if artifact else None
    if artifact is None or artifact.deleted_at or project is None or project.deleted_at:
        raise JobFailed("artifact_not_found", "the artifact or its project was deleted")
    tool = runtime.tools.get(artifact.type)
    if tool is None:
        raise JobFailed("unknown_tool", f"no tool named {artifact.type!r}")
    return job, artifact, project, tool


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything a job needs before its provider call, loaded in one transaction."""

    artifact_id: uuid.UUID
    user_id: uuid.UUID
    payload: dict[str, Any]
    tool: Tool
    inputs: dict[str, Any]
    output_data: dict[str, Any] | None
    context: dict[str, Any]
    resolved: ResolvedProvider
    record: CallRecord
    language: str = DEFAULT_LANGUAGE


async def prepare_call(
    runtime: AIRuntime,
    job_id: uuid.UUID,
    control: JobControl,
    *,
    prompt_template: Callable[[Tool, dict[str, Any]], str] | None = None,
    validate_inputs: bool = True,
) -> Prepared:
    """Load the job's artifact and tool, check the budget, resolve the provider, and
    record the "calling" event. ``prompt_template(tool, payload)`` names the prompt in
    the audit rows when it is not the tool's own."""
    async with runtime.steps, session_scope(runtime.maker) as session:
        job, artifact, project, tool = await _load_for_generation(session, runtime, job_id)
        try:
            inputs = tool.input_model.model_validate(artifact.input_data).model_dump(mode="json")
        except ValidationError as error:
            if validate_inputs:
                raise JobFailed("invalid_input", json.dumps(_error_list(error))) from None
            inputs = dict(artifact.input_data)
        try:
            await check_budget(
                session,
                settings=runtime.settings,
                user_id=job.user_id,
                organization_id=project.organization_id,
            )
            resolved = await resolve_provider(
                session,
                user_id=job.user_id,
                settings=runtime.settings,
                cipher=runtime.cipher,
                override_id=_uuid_or_none(job.payload.get("provider_id")),
                project_provider_id=project.ai_provider_id,
            )
        except AtelierError as error:
            raise JobFailed(error.code, str(error.detail)) from None
        context = await tool.context(
            ToolContext(
                session=session,
                project_id=project.id,
                artifact_id=artifact.id,
                stage_id=artifact.stage_id,
            )
        )
        record = CallRecord(
            user_id=job.user_id,
            organization_id=project.organization_id,
            project_id=project.id,
            artifact_id=artifact.id,
            stage_id=artifact.stage_id,
            job_id=job.id,
            prompt_template=(
                prompt_template(tool, job.payload) if prompt_template else tool.prompt_name()
            ),
        )
        control.add_event(
            session,
            "progress",
            {
                "step": "calling",
                "provider": resolved.kind,
                "model": resolved.settings.default_model,
            },
        )
        owner = await session.get(User, job.user_id)
        prepared = Prepared(
            language=language_of(project, owner),
            artifact_id=artifact.id,
            user_id=job.user_id,
            payload=dict(job.payload),
            tool=tool,
            inputs=inputs,
            output_data=artifact.output_data,
            context=context,
            resolved=resolved,
            record=record,
        )
    control.events.announce(job_id)
    return prepared


def language_of(project: Project, user: User | None) -> str:
    """The project's language, else its owner's preference, else English."""
    preferred = (user.preferences or {}).get("language") if user is not None else None
    for choice in (project.language, preferred):
        if isinstance(choice, str) and choice in LANGUAGES:
            return choice
    return DEFAULT_LANGUAGE


def checks_for(prepared: Prepared, messages: list[Message]) -> QualityCheck:
    """The quality checks on an answer of ``prepared``'s tool to ``messages``."""
    tool = prepared.tool
    prompt = [m.content for m in messages]

    def check(output: BaseModel) -> Report:
        return check_answer(
            output.model_dump(mode="json"),
            schema=tool.output_schema(),
            inputs=prepared.inputs,
            context=prepared.context,
            prompt=prompt,
            spec=tool.quality,
            language=prepared.language,
        )

    return check


def generator_for(runtime: AIRuntime, prepared: Prepared) -> Generator:
    try:
        return Generator(runtime, prepared.resolved, prepared.record)
    except ProviderError as error:
        key = prepared.resolved.settings.api_key
        raise JobFailed(error.code, redact(error.message, key)) from None


def _uuid_or_none(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None
