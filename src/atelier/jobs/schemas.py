"""API models for jobs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from atelier.core.schemas import OutputModel
from atelier.jobs.models import JobStatus


class JobOut(OutputModel):
    id: uuid.UUID
    kind: str
    status: JobStatus
    project_id: uuid.UUID | None
    artifact_id: uuid.UUID | None
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    attempts: int
    cancel_requested: bool
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    events_url: str = ""


def job_out(job: Any) -> JobOut:
    """A job as the API shows it, with the URL of its event stream."""
    return JobOut.model_validate(job).model_copy(
        update={"events_url": f"/api/v1/jobs/{job.id}/events"}
    )
