"""/projects/{id}/stages: the pipeline of a project (seed 001 Stage and StageOutput).

Generating a stage needs the AI service: ``api/stages.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import ValidationError

from atelier.artifacts import versions
from atelier.artifacts.models import GeneratedBy
from atelier.core.deps import DB, Paging
from atelier.core.errors import Conflict, InvalidInput
from atelier.core.openapi import error_responses
from atelier.core.pagination import Page
from atelier.projects.access import ProjectRead, ProjectWrite
from atelier.stages import pipeline
from atelier.stages.hooks import hooks_for
from atelier.stages.pipeline import StageState
from atelier.stages.schemas import (
    StageFilesOut,
    StageOut,
    StageOutputOut,
    StagesOut,
    StageUpdate,
)

router = APIRouter(prefix="/projects/{project_id}/stages", tags=["stages"])

StageNumber = Annotated[int, Path(ge=1, le=100, description="the stage's position, from 1")]
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]


async def stage_out(session: DB, state: StageState) -> StageOut:
    active = await versions.active_version_info(session, [state.artifact.id])
    info = active.get(state.artifact.id)
    return StageOut.of(state, info[0] if info else None)


@router.get("", response_model=StagesOut)
async def list_stages(access: ProjectRead, session: DB) -> StagesOut:
    states = await pipeline.list_stages(session, access.project)
    active = await versions.active_version_info(session, [s.artifact.id for s in states])
    items = [
        StageOut.of(s, info[0] if (info := active.get(s.artifact.id)) else None) for s in states
    ]
    return StagesOut(
        project_id=access.project.id, current_stage=access.project.current_stage, items=items
    )


@router.get("/{number}", response_model=StageOut)
async def get_stage(number: StageNumber, access: ProjectRead, session: DB) -> StageOut:
    return await stage_out(session, await pipeline.get_stage(session, access.project, number))


@router.patch("/{number}", response_model=StageOut, responses=error_responses(409))
async def update_stage(
    number: StageNumber, body: StageUpdate, access: ProjectWrite, session: DB
) -> StageOut:
    """Change the user input (any time but while generating) and/or write the output by
    hand (``data``: a new human version; the stage goes to review)."""
    state = await pipeline.get_stage(session, access.project, number)
    if state.generating:
        pipeline.ensure_changeable(state)
    if body.user_input is not None:
        state.stage.user_input = body.user_input
        state.artifact.input_data = {"user_input": body.user_input}
    if body.data is not None:
        model = hooks_for(access.project.pack).output_model(state.stage.stage_name)
        if model is None:
            raise Conflict(
                f"stage {number} ({state.stage.stage_label}) is compiled, not written: "
                "generate it instead",
                code="stage_not_editable",
            )
        pipeline.ensure_changeable(state)
        try:
            content = model.model_validate(body.data).model_dump_json()
        except ValidationError as error:
            raise InvalidInput(
                [
                    {
                        "field": ".".join(["body", "data", *(str(p) for p in e["loc"])]),
                        "message": e["msg"],
                        "type": e["type"],
                    }
                    for e in error.errors()
                ]
            ) from None
        await versions.add_version(
            session,
            artifact=state.artifact,
            content=content,
            generated_by=GeneratedBy.HUMAN,
            created_by_id=access.user.id,
        )
    await session.flush()
    return await stage_out(session, state)


@router.post("/{number}/complete", response_model=StageOut, responses=error_responses(409))
async def complete_stage(number: StageNumber, access: ProjectWrite, session: DB) -> StageOut:
    state = await pipeline.complete_stage(session, access.project, number)
    return await stage_out(session, state)


@router.get("/{number}/outputs", response_model=Page[StageOutputOut])
async def list_outputs(
    number: StageNumber, access: ProjectRead, session: DB, page: Paging
) -> Page[StageOutputOut]:
    """The stage's versions, newest first."""
    state = await pipeline.get_stage(session, access.project, number)
    rows, cursor = await versions.list_versions(
        session, artifact=state.artifact, cursor=page.cursor, limit=page.limit
    )
    return Page(items=[StageOutputOut.of(v) for v in rows], next_cursor=cursor)


@router.get("/{number}/outputs/{version}", response_model=StageOutputOut)
async def get_output(
    number: StageNumber, version: VersionNumber, access: ProjectRead, session: DB
) -> StageOutputOut:
    state = await pipeline.get_stage(session, access.project, number)
    row = await versions.get_version(session, artifact=state.artifact, number=version)
    return StageOutputOut.of(row)


@router.post(
    "/{number}/outputs/{version}/activate",
    response_model=StageOutputOut,
    responses=error_responses(409),
)
async def activate_output(
    number: StageNumber, version: VersionNumber, access: ProjectWrite, session: DB
) -> StageOutputOut:
    state = await pipeline.get_stage(session, access.project, number)
    pipeline.ensure_changeable(state)
    row = await versions.activate_version(session, artifact=state.artifact, number=version)
    return StageOutputOut.of(row)


@router.get("/{number}/files", response_model=StageFilesOut)
async def stage_files(number: StageNumber, access: ProjectRead, session: DB) -> StageFilesOut:
    """The files the stage's active output becomes in an exported package."""
    await pipeline.get_stage(session, access.project, number)
    files = await hooks_for(access.project.pack).files(session, access.project, number)
    return StageFilesOut(files=files)
