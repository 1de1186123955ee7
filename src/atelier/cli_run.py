"""`atelier run` and `atelier worker`: the AI engine from the command line."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.models import User, UserRole
from atelier.accounts.principal import Principal
from atelier.config import Settings
from atelier.core.errors import AtelierError
from atelier.jobs.events import EventBus


class PrintingEvents(EventBus):
    """Shows a job's events on stderr as they happen; the result goes to stdout."""

    async def emit(self, job_id: uuid.UUID, type: str, data: dict[str, Any] | None = None) -> None:
        await super().emit(job_id, type, data)
        data = data or {}
        if type == "progress" and "text" in data:
            sys.stderr.write(data["text"])
        elif type == "progress":
            typer.echo(
                f"… {data.get('step', '')} {data.get('provider', '')} "
                f"{data.get('model', '')}".rstrip(),
                err=True,
            )
        elif type == "attempt_failed":
            typer.echo(
                f"\n! attempt {data.get('attempt')} failed: {data.get('reason')} "
                f"{data.get('message', '')}".rstrip(),
                err=True,
            )
        elif type == "quality_findings":
            which = (
                f"part {', '.join(data['part'])}"
                if data.get("part")
                else f"answer {data.get('attempt')}"
            )
            typer.echo(
                f"\n! {which}: {len(data.get('findings') or [])} "
                "problem(s) found by the checks; asking for a repair",
                err=True,
            )
        elif type in ("succeeded", "failed", "cancelled"):
            typer.echo(f"\n{type}", err=True)


async def pick_user(session: AsyncSession, email: str | None) -> User:
    if email:
        user: User | None = await session.scalar(
            select(User).where(User.email == email.strip().lower())
        )
        if user is None:
            raise typer.BadParameter(f"no user with email {email}", param_hint="--user")
        return user
    count = await session.scalar(select(func.count()).select_from(User))
    if count == 1:
        only: User | None = await session.scalar(select(User))
        assert only is not None
        return only
    admin: User | None = await session.scalar(
        select(User).where(User.role == UserRole.ADMIN).order_by(User.created_at).limit(1)
    )
    if admin is None:
        raise typer.BadParameter(
            "say which account runs this (there is no single user or admin)", param_hint="--user"
        )
    return admin


async def run_tool(
    settings: Settings,
    *,
    tool_key: str,
    inputs: dict[str, Any],
    project_id: str | None,
    provider_id: str | None,
    user_email: str | None,
) -> int:
    from atelier.ai import service as ai_service
    from atelier.app import build_runner, build_runtime
    from atelier.artifacts.models import Artifact
    from atelier.artifacts.service import create_artifact
    from atelier.core.db import make_engine, make_sessionmaker, session_scope
    from atelier.core.packs import packs
    from atelier.jobs.models import Job
    from atelier.projects.access import Need, load_project
    from atelier.projects.catalog import DEFAULT_PACK
    from atelier.stages.new_project import create_project

    engine = make_engine(settings)
    maker = make_sessionmaker(engine, settings)
    runtime = build_runtime(settings, maker)
    events = PrintingEvents(maker)
    runner = build_runner(runtime, events, dialect=engine.dialect.name)
    try:
        async with session_scope(maker) as session:
            user = await pick_user(session, user_email)
            principal = Principal.of(user)
            tool = ai_service.tool_for(runtime, tool_key, field="TOOL")
            inputs = ai_service.validate_inputs(tool, inputs, field="input")
            if project_id:
                project = (
                    await load_project(
                        session, user=principal, project_id=uuid.UUID(project_id), need=Need.WRITE
                    )
                ).project
            else:
                project = await create_project(
                    session,
                    user=principal,
                    name=f"CLI: {tool.title}",
                    pack=tool.pack if packs.get(tool.pack) else DEFAULT_PACK,
                )
            artifact = await create_artifact(
                session,
                project=project,
                user=principal,
                type=tool.key,
                name=tool.title,
                input_data=inputs,
            )
            job, resolved = await ai_service.request_generation(
                session,
                runtime=runtime,
                user=principal,
                artifact=artifact,
                project_organization_id=project.organization_id,
                project_provider_id=project.ai_provider_id,
                provider_id=uuid.UUID(provider_id) if provider_id else None,
            )
            job_id, artifact_id = job.id, artifact.id
        typer.echo(
            f"running {tool.key} with {resolved.kind} ({resolved.settings.default_model}) "
            f"as {user.email}, job {job_id}",
            err=True,
        )
        await runner.run_until_idle(seconds=settings.ai_timeout_seconds * 4, only={job_id})
        async with session_scope(maker) as session:
            job_row = await session.get(Job, job_id)
            art = await session.get(Artifact, artifact_id)
            assert job_row is not None and art is not None
            if job_row.status.value != "succeeded":
                typer.echo(f"error: {job_row.error_code}: {job_row.error_message}", err=True)
                return 1
            typer.echo(
                json.dumps(
                    {
                        "artifact_id": str(art.id),
                        "project_id": str(art.project_id),
                        "version": art.latest_version,
                        "output_data": art.output_data,
                    },
                    indent=2,
                    ensure_ascii=False,
                )
            )
            return 0
    except AtelierError as error:
        typer.echo(f"error: {error.code}: {error.detail}", err=True)
        return 1
    finally:
        await runtime.providers.aclose()
        await engine.dispose()


async def work(settings: Settings) -> None:
    """Run jobs until interrupted (any number of these may share a PostgreSQL database)."""
    from atelier.app import build_runner, build_runtime
    from atelier.core.db import make_engine, make_sessionmaker

    engine = make_engine(settings)
    maker = make_sessionmaker(engine, settings)
    runtime = build_runtime(settings, maker)
    runner = build_runner(runtime, EventBus(maker), dialect=engine.dialect.name)
    await runner.start()
    typer.echo(f"worker {runner.worker_id}: {settings.job_concurrency} jobs at a time", err=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.stop()
        await runtime.providers.aclose()
        await engine.dispose()


def read_inputs(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise typer.BadParameter(str(error), param_hint="--input") from None
    if not isinstance(data, dict):
        raise typer.BadParameter("the input file must hold one JSON object", param_hint="--input")
    return data
