"""`atelier uploads add FILE`: a local file into Atelier, processed, straight from the
database (the same checks, storage and job as the API)."""

from __future__ import annotations

import hashlib
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import typer

from atelier.config import Settings
from atelier.core.errors import AtelierError
from atelier.jobs.events import EventBus
from atelier.uploads.receive import Received


class ProgressLine(EventBus):
    """One line on stderr that the job's progress events rewrite."""

    async def emit(self, job_id: uuid.UUID, type: str, data: dict[str, Any] | None = None) -> None:
        await super().emit(job_id, type, data)
        data = data or {}
        if type == "progress":
            fraction = float(data.get("fraction") or 0.0)
            sys.stderr.write(f"\rprocessing: {data.get('stage', '')} {fraction:4.0%}   ")
            sys.stderr.flush()


def prepare(file: Path, *, project_id: str | None, kind: str | None) -> Received:
    """The file as the API would have received it: its size and SHA-256, the fields."""
    if not file.is_file():
        raise typer.BadParameter(f"no such file: {file}", param_hint="FILE")
    digest = hashlib.sha256()
    size = 0
    with file.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    fields = {key: value for key, value in (("project_id", project_id), ("kind", kind)) if value}
    return Received(
        path=file, original_name=file.name, size=size, sha256=digest.hexdigest(), fields=fields
    )


async def add(settings: Settings, received: Received, *, user_email: str | None, wait: bool) -> int:
    from atelier.accounts.principal import Principal
    from atelier.app import build_runner, build_runtime
    from atelier.cli_run import pick_user
    from atelier.core.db import make_engine, make_sessionmaker, session_scope
    from atelier.uploads.accept import keep_received
    from atelier.uploads.models import Upload
    from atelier.uploads.schemas import UploadOut

    engine = make_engine(settings)
    maker = make_sessionmaker(engine, settings)
    runtime = build_runtime(settings, maker)
    runner = build_runner(runtime, ProgressLine(maker), dialect=engine.dialect.name)
    try:
        async with session_scope(maker) as session:
            user = await pick_user(session, user_email)
            assert runtime.storage is not None
            upload = await keep_received(
                received,
                session=session,
                user=Principal.of(user),
                settings=settings,
                storage=runtime.storage,
            )
            upload_id, job_id = upload.id, upload.job_id
        typer.echo(
            f"uploaded {received.original_name} as {upload_id} "
            f"({upload.mime_type}, {received.size} bytes)",
            err=True,
        )
        if wait and job_id is not None:
            await runner.run_until_idle(seconds=settings.job_stale_seconds * 20, only={job_id})
        async with session_scope(maker) as session:
            row = await session.get(Upload, upload_id)
            assert row is not None
            reason = f": {row.failure_reason}" if row.failure_reason else ""
            sys.stderr.write(f"\rprocessing: {row.status.value.lower()}{reason}{' ' * 20}\n")
            typer.echo(
                json.dumps(UploadOut.of(row).model_dump(mode="json"), indent=2, ensure_ascii=False)
            )
            return 1 if row.status.value == "FAILED" else 0
    except AtelierError as error:
        typer.echo(f"error: {error.code}: {error.detail}", err=True)
        return 1
    finally:
        await runtime.providers.aclose()
        await engine.dispose()
