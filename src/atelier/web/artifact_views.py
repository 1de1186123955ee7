"""What the artifact page shows besides the document, read and shaped for its template:
the versions with what their generation cost, the iteration tree, the generation still
running, and the rename and duplicate forms."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai.models import AIGeneration
from atelier.artifacts import service, versions
from atelier.artifacts.derivation import Mode
from atelier.artifacts.models import Artifact, ArtifactVersion
from atelier.core.errors import NotFound
from atelier.jobs.models import Job, JobStatus
from atelier.jobs.service import load_job
from atelier.web.failure_messages import failure

# Versions listed on the artifact page; older ones are reachable through the API.
MAX_VERSIONS = 200
DERIVATION_LABELS = {
    "created": "original",
    "duplicated": "duplicate",
    "edited_inputs": "edited inputs",
    "continued": "continued",
    "merged": "merged",
}
MODE_LABELS = {
    Mode.EDIT_INPUTS: "Edit original inputs",
    Mode.CONTINUE_FROM_RESULTS: "Continue from results",
    Mode.MERGE_ENHANCE: "Merge & enhance",
}


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: ArtifactVersion
    generation: AIGeneration | None

    @property
    def cost(self) -> str | None:
        if self.generation is None:
            return None
        cost = self.generation.estimated_cost or Decimal(0)
        return f"${cost:.4f}" if cost else "free"


async def version_rows(session: AsyncSession, artifact: Artifact) -> list[VersionRow]:
    """The artifact's versions, newest first, each with the generation that made it."""
    rows, _ = await versions.list_versions(
        session, artifact=artifact, cursor=None, limit=MAX_VERSIONS
    )
    ids = [v.ai_generation_id for v in rows if v.ai_generation_id is not None]
    generations: dict[uuid.UUID, AIGeneration] = {}
    if ids:
        found = await session.scalars(select(AIGeneration).where(AIGeneration.id.in_(ids)))
        generations = {g.id: g for g in found.all()}
    return [
        VersionRow(v, generations.get(v.ai_generation_id) if v.ai_generation_id else None)
        for v in rows
    ]


@dataclass(slots=True)
class TreeItem:
    artifact: Artifact
    versions: int
    active: int | None
    current: bool
    children: list[TreeItem] = field(default_factory=list)


async def history(session: AsyncSession, artifact: Artifact) -> TreeItem:
    """The iteration tree as nested items (the service gives it in pre-order)."""
    nodes = await service.iteration_tree(session, artifact=artifact)
    items = {
        n.artifact.id: TreeItem(
            artifact=n.artifact,
            versions=len(n.versions),
            active=next((v.version for v in n.versions if v.is_active), None),
            current=n.artifact.id == artifact.id,
        )
        for n in nodes
    }
    for node in nodes:
        items[node.artifact.id].children = [items[c] for c in node.children if c in items]
    return items[nodes[0].artifact.id]


async def job_for_page(
    session: AsyncSession, user: Principal, artifact: Artifact, job_id: uuid.UUID | None
) -> Job | None:
    """The job the page was sent with, else a generation of this artifact still running."""
    if job_id is not None:
        try:
            job = await load_job(session, user=user, job_id=job_id)
        except NotFound:
            return None
        return job if job.artifact_id == artifact.id and job.kind == "generate" else None
    return await session.scalar(
        select(Job)
        .where(
            Job.artifact_id == artifact.id,
            Job.user_id == user.id,
            Job.kind == "generate",
            Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
        )
        .order_by(Job.created_at.desc())
        .limit(1)
    )


def job_failure(job: Job | None) -> dict[str, Any] | None:
    """What to show for the page's job, if it failed or was cancelled."""
    if job is None or job.status not in (JobStatus.FAILED, JobStatus.CANCELLED):
        return None
    return failure(job.error_code, job.error_message)


@dataclass(slots=True)
class NameForms:
    """The artifact page's rename and duplicate forms as posted: what was typed (kept when
    it is refused) and what is wrong with it, shown next to the field."""

    rename: str | None = None  # None: the artifact's own name
    rename_error: str | None = None
    copy_name: str = ""
    copy_error: str | None = None
