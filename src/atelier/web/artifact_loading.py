"""Loading an artifact for a page: the artifact, its project and tool, and what the user
may do with it, checked as the API checks it (``load_artifact``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.ai.tools import Tool, load_tools
from atelier.artifacts.access import load_artifact
from atelier.artifacts.models import Artifact
from atelier.core.errors import NotFound
from atelier.projects.access import Need
from atelier.projects.models import Project


@dataclass(frozen=True, slots=True)
class Loaded:
    artifact: Artifact
    project: Project
    tool: Tool | None
    active_version: int | None
    can_write: bool


async def load(
    session: AsyncSession, user: Principal, artifact_id: uuid.UUID, need: Need = Need.READ
) -> Loaded:
    access = await load_artifact(session, user=user, artifact_id=artifact_id, need=need)
    project = await session.get(Project, access.artifact.project_id)
    if project is None:
        raise NotFound("no such artifact", code="artifact_not_found")
    return Loaded(
        artifact=access.artifact,
        project=project,
        tool=load_tools().get(access.artifact.type),
        active_version=access.active_version,
        can_write=access.level >= Need.WRITE,
    )


def project_url(project: Project) -> str:
    return f"/projects/{project.id}"


def crumbs(project: Project, *extra: tuple[str, str]) -> list[tuple[str, str]]:
    """The breadcrumbs of a page under ``project``; ``extra`` are (label, URL) pairs."""
    return [("Projects", "/projects"), (project.name, project_url(project)), *extra]


def artifact_crumbs(loaded: Loaded) -> list[tuple[str, str]]:
    """The breadcrumbs of a page under the artifact's own page."""
    a = loaded.artifact
    return crumbs(loaded.project, (a.name, f"/artifacts/{a.id}"))


def generatable(loaded: Loaded) -> Tool:
    """The tool, if this artifact can be generated from the web UI (pipeline stages have
    their own pages and rules)."""
    if loaded.tool is None or loaded.artifact.stage_id is not None:
        raise NotFound("this artifact is not made by a form", code="artifact_not_found")
    return loaded.tool
