"""The stage statuses a new active output changes, on the Stage and Project rows alone.

``artifacts.versions`` calls :func:`output_changed` whenever a stage's artifact gets a new
active version (generated, written by hand, or another version activated). It lives here,
below ``artifacts``, so that the version store moves its stage without importing the
pipeline (``stages.pipeline``), which is built on top of both.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.core.db import utcnow
from atelier.core.errors import Conflict
from atelier.projects.models import Project, Stage, StageStatus


def locked_error(stage: Stage) -> Conflict:
    return Conflict(
        f"stage {stage.stage_number} ({stage.stage_label}) is locked: complete "
        "the stages before it first",
        code="stage_locked",
    )


async def output_changed(session: AsyncSession, stage_id: uuid.UUID) -> None:
    """A stage got a new active output: it goes to review, and later stages already
    completed are flagged as needing review. Raises if the stage is locked."""
    stage = await session.get(Stage, stage_id)
    if stage is None:
        return
    if stage.status == StageStatus.LOCKED:
        raise locked_error(stage)
    was_complete = stage.status == StageStatus.COMPLETE
    stage.status = StageStatus.REVIEW
    stage.needs_review = False
    stage.updated_at = utcnow()
    if was_complete:
        stage.completed_at = None
        await session.flush()
        await _flag_later(session, stage)
        await move_current(session, stage.project_id)


async def _flag_later(session: AsyncSession, stage: Stage) -> None:
    await session.execute(
        update(Stage)
        .where(
            Stage.project_id == stage.project_id,
            Stage.stage_number > stage.stage_number,
            Stage.status == StageStatus.COMPLETE,
        )
        .values(needs_review=True, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )


async def move_current(session: AsyncSession, project_id: uuid.UUID) -> None:
    """``current_stage``: the first stage not complete (the last one when all are)."""
    statuses = (
        await session.execute(
            select(Stage.stage_number, Stage.status)
            .where(Stage.project_id == project_id)
            .order_by(Stage.stage_number)
        )
    ).all()
    current = next((n for n, s in statuses if s != StageStatus.COMPLETE), statuses[-1][0])
    await session.execute(
        update(Project)
        .where(Project.id == project_id)
        .values(current_stage=current, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
