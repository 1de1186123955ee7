"""The software design pipeline's answers to the engine's stage endpoints: stage outputs
that people may write by hand are checked against the stage's model; the database stage
compiles its SQL from the data model before the AI adds to it, and the export stage is
computed entirely (its cross-reference report); a stage's files are the package's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.packs.sdp import service
from atelier.packs.sdp.package import STORED_MODELS, snapshot_files
from atelier.stages.hooks import StageHooks

if TYPE_CHECKING:
    from atelier.accounts.principal import Principal
    from atelier.projects.models import Project
    from atelier.stages.pipeline import StageState


class SdpStageHooks(StageHooks):
    def output_model(self, stage_name: str) -> type[BaseModel] | None:
        return STORED_MODELS.get(stage_name)

    async def before_generation(
        self,
        session: AsyncSession,
        project: Project,
        state: StageState,
        user: Principal,
        *,
        ai: bool,
    ) -> bool:
        name = state.stage.stage_name
        if name == "export":
            await service.compile_export(session, project, state, user)
            return True
        if name == "database":
            await service.compile_database(session, project, state, user)
            return not ai
        return False

    async def files(self, session: AsyncSession, project: Project, number: int) -> dict[str, str]:
        return snapshot_files(await service.snapshot(session, project), number)


HOOKS = SdpStageHooks()
