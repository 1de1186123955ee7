"""The example pack's API: a project's notes, and a job that counts them."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, status
from pydantic import StringConstraints
from sqlalchemy import func, insert, select

from atelier.accounts.deps import CurrentUser
from atelier.core.deps import DB
from atelier.core.schemas import InputModel
from atelier.jobs import service as jobs
from atelier.projects.access import Need, load_project
from tests.packs.example.models import notes

router = APIRouter(tags=["example"])


class NoteIn(InputModel):
    text: Annotated[str, StringConstraints(min_length=1, max_length=200)]


@router.get("/projects/{project_id}/example-notes")
async def list_notes(project_id: uuid.UUID, user: CurrentUser, session: DB) -> dict[str, Any]:
    access = await load_project(session, user=user, project_id=project_id, need=Need.READ)
    rows = await session.execute(
        select(notes.c.text).where(notes.c.project_id == access.project.id)
    )
    return {"items": [text for (text,) in rows]}


@router.post("/projects/{project_id}/example-notes", status_code=status.HTTP_201_CREATED)
async def add_note(
    project_id: uuid.UUID, body: NoteIn, user: CurrentUser, session: DB
) -> dict[str, Any]:
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    await session.execute(insert(notes).values(project_id=access.project.id, text=body.text))
    return {"text": body.text}


@router.post("/projects/{project_id}/example-notes/tally", status_code=202)
async def tally(project_id: uuid.UUID, user: CurrentUser, session: DB) -> dict[str, Any]:
    access = await load_project(session, user=user, project_id=project_id, need=Need.WRITE)
    job = await jobs.enqueue(
        session, user_id=user.id, kind="example_tally", payload={}, project_id=access.project.id
    )
    return {"job_id": str(job.id)}


async def count_notes(session: Any, project_id: uuid.UUID) -> int:
    query = select(func.count()).select_from(notes).where(notes.c.project_id == project_id)
    return int(await session.scalar(query) or 0)
