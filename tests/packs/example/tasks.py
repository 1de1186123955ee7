"""The example pack's job handler: count a project's notes."""

from __future__ import annotations

import uuid
from typing import Any

from atelier.core.db import session_scope
from atelier.jobs.models import Job
from atelier.jobs.runner import JobControl
from tests.packs.example.api import count_notes


async def tally(runtime: Any, job_id: uuid.UUID, control: JobControl) -> dict[str, Any]:
    async with session_scope(runtime.maker) as session:
        job = await session.get(Job, job_id)
        assert job is not None and job.project_id is not None
        return {"notes": await count_notes(session, job.project_id)}


HANDLERS = {"example_tally": tally}
