"""The stage pipeline: a project's ordered stages and their lifecycle.

locked → active → generating → review → complete, enforced here and nowhere else:

* a new pipeline project has stage 1 active and the rest locked;
* generating is possible on an active, review or complete stage (not locked, not while
  another generation of the stage runs); it ends in review with a new active version;
* a human edit or activating another version does the same (review);
* completing needs review (an active output); it activates the next stage if locked and
  moves ``current_stage`` to the first stage not complete;
* a stage that changes after later stages were completed flags those as needing review
  (shown, not reset).

"generating" is not stored: a stage shows it while its latest generation job is queued or
running (``Stage.job_id``). A job that fails, is cancelled or dies with its process thus
leaves the stage exactly as it was, without any clean-up step that could be missed.

Each stage holds one artifact (type = the stage tool's key); the artifact's versions are
the stage's outputs (seed 001 StageOutput).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.artifacts.models import Artifact
from atelier.core.db import utcnow
from atelier.core.errors import Conflict, NotFound
from atelier.jobs.models import Job, JobStatus
from atelier.projects.catalog import pipeline_for, pipeline_packs
from atelier.projects.models import Project, Stage, StageStatus
from atelier.projects.stage_spec import StageSpec
from atelier.projects.stage_status import locked_error, move_current

LIVE_JOB = (JobStatus.QUEUED, JobStatus.RUNNING)
GENERATING = "generating"


def pipeline_of(project: Project) -> tuple[StageSpec, ...] | None:
    """The stages of the project's pack, if it has a pipeline (``PackSpec.pipeline``)."""
    return pipeline_for(project.pack)


def spec_of(project: Project, number: int) -> StageSpec:
    specs = pipeline_of(project)
    if specs is None:
        raise NotFound(
            f"a {project.pack} project has no stages; only pipeline packs "
            f"({', '.join(pipeline_packs())}) do",
            code="stage_not_found",
        )
    for spec in specs:
        if spec.number == number:
            return spec
    raise NotFound(f"no stage {number}: stages are 1 to {len(specs)}", code="stage_not_found")


@dataclass(slots=True)
class StageState:
    """A stage with its artifact and whether a generation of it is under way."""

    stage: Stage
    artifact: Artifact
    job_status: JobStatus | None

    @property
    def generating(self) -> bool:
        return self.job_status in LIVE_JOB

    @property
    def status(self) -> str:
        return GENERATING if self.generating else self.stage.status.value


# ------------------------------------------------------------------------------ creation
async def create_stages(
    session: AsyncSession,
    *,
    project: Project,
    user_id: uuid.UUID,
    stage_defaults: dict[str, Any] | None = None,
) -> list[Stage]:
    """The project's stages (first active, others locked), each with its artifact."""
    specs = pipeline_of(project)
    if specs is None:
        return []
    defaults = stage_defaults or {}
    stages = []
    for spec in specs:
        given = defaults.get(spec.name)
        user_input = given.get("userInput") if isinstance(given, dict) else None
        stage = Stage(
            id=uuid.uuid4(),
            project_id=project.id,
            stage_number=spec.number,
            stage_name=spec.name,
            stage_label=spec.label,
            status=StageStatus.ACTIVE if spec.number == 1 else StageStatus.LOCKED,
            user_input=user_input if isinstance(user_input, str) else None,
        )
        session.add(stage)
        stages.append(stage)
    await session.flush()  # stages before the artifacts that point at them
    for spec, stage in zip(specs, stages, strict=True):
        session.add(
            Artifact(
                project_id=project.id,
                user_id=user_id,
                stage_id=stage.id,
                type=spec.tool_key,
                name=spec.label,
                input_data={"user_input": stage.user_input or ""},
            )
        )
    project.current_stage = specs[0].number
    await session.flush()
    return stages


# ------------------------------------------------------------------------------- reading
def _state_query(project_id: uuid.UUID) -> Any:
    return (
        select(Stage, Artifact, Job.status)
        .join(Artifact, (Artifact.stage_id == Stage.id) & Artifact.deleted_at.is_(None))
        .outerjoin(Job, Job.id == Stage.job_id)
        .where(Stage.project_id == project_id)
        .order_by(Stage.stage_number)
    )


async def list_stages(session: AsyncSession, project: Project) -> list[StageState]:
    if pipeline_of(project) is None:
        spec_of(project, 1)  # raises the explanation
    rows = await session.execute(_state_query(project.id))
    return [StageState(stage, artifact, status) for stage, artifact, status in rows]


async def get_stage(session: AsyncSession, project: Project, number: int) -> StageState:
    spec_of(project, number)
    row = (
        await session.execute(_state_query(project.id).where(Stage.stage_number == number))
    ).first()
    if row is None:
        raise NotFound(f"the project has no stage {number}", code="stage_not_found")
    return StageState(*row)


async def stage_of_artifact(session: AsyncSession, artifact: Artifact) -> StageState | None:
    if artifact.stage_id is None:
        return None
    row = (
        await session.execute(
            select(Stage, Job.status)
            .outerjoin(Job, Job.id == Stage.job_id)
            .where(Stage.id == artifact.stage_id)
        )
    ).first()
    return StageState(row[0], artifact, row[1]) if row else None


# ----------------------------------------------------------------------------- lifecycle
def _generating_error(state: StageState) -> Conflict:
    return Conflict(
        f"stage {state.stage.stage_number} is generating (job {state.stage.job_id}); wait "
        "for it to finish or cancel it",
        code="stage_generating",
    )


def ensure_changeable(state: StageState) -> None:
    """A new output may come only to an unlocked stage that is not generating."""
    if state.stage.status == StageStatus.LOCKED:
        raise locked_error(state.stage)
    if state.generating:
        raise _generating_error(state)


async def claim_generation(session: AsyncSession, state: StageState, job: Job) -> None:
    """Make ``job`` the stage's generation, unless another one is live (checked and set in
    one UPDATE, so two concurrent requests cannot both start one)."""
    ensure_changeable(state)
    live = select(Job.id).where(Job.id == Stage.job_id, Job.status.in_(LIVE_JOB)).exists()
    claimed = await session.execute(
        update(Stage)
        .where(Stage.id == state.stage.id, Stage.status != StageStatus.LOCKED, ~live)
        .values(job_id=job.id, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        raise _generating_error(state)
    state.stage.job_id = job.id
    state.job_status = JobStatus.QUEUED


async def refresh_current_stage(session: AsyncSession, project: Project) -> None:
    await move_current(session, project.id)
    await session.refresh(project)


async def complete_stage(session: AsyncSession, project: Project, number: int) -> StageState:
    state = await get_stage(session, project, number)
    stage = state.stage
    if state.generating:
        raise _generating_error(state)
    if stage.status == StageStatus.LOCKED:
        raise locked_error(state.stage)
    if stage.status == StageStatus.COMPLETE:
        raise Conflict(f"stage {number} is already complete", code="stage_already_complete")
    if stage.status != StageStatus.REVIEW or state.artifact.latest_version == 0:
        raise Conflict(
            f"stage {number} has no output to review yet: generate it or write one first",
            code="stage_not_in_review",
        )
    now = utcnow()
    stage.status = StageStatus.COMPLETE
    stage.completed_at = now
    stage.needs_review = False
    stage.updated_at = now
    await session.execute(
        update(Stage)
        .where(
            Stage.project_id == project.id,
            Stage.stage_number == number + 1,
            Stage.status == StageStatus.LOCKED,
        )
        .values(status=StageStatus.ACTIVE, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await session.flush()
    await move_current(session, project.id)
    await session.refresh(project)
    return state


async def earlier_outputs(
    session: AsyncSession, project_id: uuid.UUID, names: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Active outputs of the named stages of a project (those that have one)."""
    rows = await session.execute(
        select(Stage.stage_name, Artifact.output_data)
        .join(Artifact, Artifact.stage_id == Stage.id)
        .where(
            Stage.project_id == project_id,
            Stage.stage_name.in_(list(names)),
            Artifact.deleted_at.is_(None),
        )
    )
    return {name: data for name, data in rows if data}
