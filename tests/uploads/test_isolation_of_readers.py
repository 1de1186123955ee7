"""Files are read in a child process: a file that kills its reader, or makes it spin,
fails that upload with a reason and leaves the server (and the next upload) alone."""

from __future__ import annotations

import os
from typing import Any

import pytest

from atelier.uploads import isolated
from tests.conftest import run_jobs
from tests.factories import Account, Api
from tests.uploads import crashing
from tests.uploads.helpers import API, upload

pytestmark = pytest.mark.anyio


async def status_after_processing(api: Api, app: Any, who: Account, name: str) -> dict[str, Any]:
    record = await upload(api, who, name, b"words to read")
    await run_jobs(app, record["job_id"], seconds=120)
    r = await api.client.get(f"{API}/{record['id']}", headers=who.headers)
    return dict(r.json())


async def test_a_reader_that_dies_fails_one_upload_only(
    api: Api, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await api.signup()
    server_pid = os.getpid()
    monkeypatch.setattr(isolated, "TARGET", crashing.die)
    done = await status_after_processing(api, app, me, "poison.txt")
    assert done["status"] == "FAILED"
    assert "stopped the program reading it" in done["failure_reason"]
    assert os.getpid() == server_pid
    monkeypatch.undo()
    done = await status_after_processing(api, app, me, "fine.txt")
    assert done["status"] == "COMPLETED", done


async def test_a_reader_that_never_ends_is_stopped(
    api: Api, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = await api.signup()
    # A first file with time to spare: the child starts and loads the OCR models.
    done = await status_after_processing(api, app, me, "warm.txt")
    assert done["status"] == "COMPLETED", done
    monkeypatch.setattr(app.state.ai.settings, "upload_processing_timeout_seconds", 2.0)
    monkeypatch.setattr(isolated, "TARGET", crashing.hang)
    done = await status_after_processing(api, app, me, "endless.txt")
    assert done["status"] == "FAILED"
    assert "longer than 2 s" in done["failure_reason"]
    monkeypatch.undo()
    done = await status_after_processing(api, app, me, "after.txt")
    assert done["status"] == "COMPLETED", done
