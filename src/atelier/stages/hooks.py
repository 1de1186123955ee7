"""What a pipeline pack adds to the engine's generic stage endpoints.

The stage state machine (``stages.pipeline``) and the ``/projects/{id}/stages`` routes
are the engine's, the same for every pipeline pack. A pack that has more to say about its
stages names a ``StageHooks`` object in its ``PackSpec.stage_hooks``: which model a
hand-written output must match, which stages code computes instead of (or before) the
AI, and which files a stage becomes in an export. Without one, every stage is an AI
stage, none can be written by hand (that needs a model to check it against) and none
has files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.core.packs import packs, resolve

if TYPE_CHECKING:
    from atelier.accounts.principal import Principal
    from atelier.projects.models import Project
    from atelier.stages.pipeline import StageState


class StageHooks:
    """The defaults; a pack subclasses what it needs."""

    def output_model(self, stage_name: str) -> type[BaseModel] | None:
        """The model a hand-written output of this stage must match; None: the stage
        cannot be written by hand (its output is computed, or the pack says nothing)."""
        return None

    async def before_generation(
        self,
        session: AsyncSession,
        project: Project,
        state: StageState,
        user: Principal,
        *,
        ai: bool,
    ) -> bool:
        """Deterministic work before a generation (e.g. compiling SQL from the data
        model), as a new version; True when the stage is done without the AI."""
        return False

    async def files(self, session: AsyncSession, project: Project, number: int) -> dict[str, str]:
        """The files stage ``number``'s active output becomes in an exported package."""
        return {}


_DEFAULT = StageHooks()


def hooks_for(pack: str) -> StageHooks:
    spec = packs.get(pack)
    reference = getattr(spec, "stage_hooks", None) if spec is not None else None
    if not reference:
        return _DEFAULT
    hooks: StageHooks = resolve(reference)
    return hooks
