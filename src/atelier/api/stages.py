"""POST /projects/{id}/stages/{number}/generate: a stage's generation, through its pack's
hooks (a compiled stage) or the AI service (a job)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from atelier.ai import service as ai_service
from atelier.ai.deps import Runtime
from atelier.core.deps import DB
from atelier.core.openapi import error_responses
from atelier.jobs.deps import Runner, wake
from atelier.jobs.schemas import job_out
from atelier.projects.access import ProjectWrite
from atelier.stages import pipeline
from atelier.stages.endpoints import StageNumber, stage_out
from atelier.stages.hooks import hooks_for
from atelier.stages.schemas import StageGenerateIn, StageGenerateOut

router = APIRouter(prefix="/projects/{project_id}/stages", tags=["stages"])


@router.post(
    "/{number}/generate",
    response_model=StageGenerateOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        200: {
            "model": StageGenerateOut,
            "description": "a compiled stage (no AI): its new output is ready",
        },
        **error_responses(402, 409),
    },
)
async def generate_stage(
    number: StageNumber,
    access: ProjectWrite,
    session: DB,
    runtime: Runtime,
    runner: Runner,
    response: Response,
    body: StageGenerateIn | None = None,
) -> StageGenerateOut:
    """AI stages answer 202 with the job to follow. The database stage first compiles its
    SQL from the data model (a version at once), then asks the AI for additions unless
    ``ai`` is false; the export stage compiles its validation report (200, no job)."""
    body = body or StageGenerateIn()
    project = access.project
    state = await pipeline.get_stage(session, project, number)
    pipeline.ensure_changeable(state)
    hooks = hooks_for(project.pack)
    if await hooks.before_generation(session, project, state, access.user, ai=body.ai):
        response.status_code = status.HTTP_200_OK
        await session.flush()
        return StageGenerateOut(stage=await stage_out(session, state), job=None)
    job, _ = await ai_service.request_generation(
        session,
        runtime=runtime,
        user=access.user,
        artifact=state.artifact,
        project_organization_id=project.organization_id,
        project_provider_id=project.ai_provider_id,
        provider_id=body.provider_id,
        notify=wake(runner),
    )
    await pipeline.claim_generation(session, state, job)
    await session.flush()
    return StageGenerateOut(stage=await stage_out(session, state), job=job_out(job))
