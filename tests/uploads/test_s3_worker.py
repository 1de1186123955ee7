"""With S3-compatible storage, a worker on another host processes what a server received.

The "server" is the app in this test process; the "worker" is `atelier worker` in a
process of its own with a data folder of its own. They share only the PostgreSQL
database and the object store (moto's S3 server on 127.0.0.1): the file reaches the
worker through S3, and the result comes back through the database.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr

from atelier.app import create_app
from atelier.config import Settings
from tests.factories import Api
from tests.s3server import make_bucket
from tests.uploads import files
from tests.uploads.helpers import API, upload

pytestmark = pytest.mark.anyio

PAGES = ["The worker read this page from object storage.", "A second page, also read."]


@pytest.fixture
async def s3_app(
    settings: Settings, s3_server: str, tmp_path: Path, backend: str
) -> AsyncIterator[tuple[Any, Settings]]:
    if backend != "postgresql":
        pytest.skip("workers on other hosts share a PostgreSQL database")
    bucket = f"atelier-{uuid.uuid4().hex[:10]}"
    make_bucket(s3_server, bucket)
    shared = settings.model_copy(
        update={
            "data_dir": tmp_path / "server",
            "storage_url": f"s3://{bucket}/instance",
            "s3_endpoint_url": s3_server,
            "s3_access_key_id": "testing",
            "s3_secret_access_key": SecretStr("testing"),
            "run_jobs_in_process": False,
            # A queue of its own: the worker must not take other tests' jobs.
            "job_queue": f"s3-{bucket}",
        }
    )
    application = create_app(shared)
    yield application, shared
    await application.state.ai.providers.aclose()
    await application.state.engine.dispose()


def start_worker(shared: Settings, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ATELIER_ENV": "test",
        "ATELIER_DATABASE_URL": shared.resolved_database_url,
        "ATELIER_DATA_DIR": str(data_dir),
        "ATELIER_STORAGE_URL": shared.storage_url or "",
        "ATELIER_S3_ENDPOINT_URL": shared.s3_endpoint_url or "",
        "ATELIER_S3_ACCESS_KEY_ID": "testing",
        "ATELIER_S3_SECRET_ACCESS_KEY": "testing",
        "ATELIER_JOB_QUEUE": shared.job_queue,
        "ATELIER_JOB_CONCURRENCY": "2",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "atelier.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


async def test_a_worker_processes_what_the_server_received(
    s3_app: tuple[Any, Settings], tmp_path: Path
) -> None:
    application, shared = s3_app
    async with AsyncClient(
        transport=ASGITransport(app=application), base_url="http://server"
    ) as http:
        api = Api(http)
        me = await api.signup()
        record = await upload(api, me, "report.pdf", files.text_pdf(PAGES))
        # The server kept nothing on its own disk: the bytes are in the bucket.
        assert application.state.storage.exists(record["path"])
        server_files = [p for p in (tmp_path / "server").rglob("*") if p.is_file()]
        assert not [p for p in server_files if "storage" in p.parts], server_files

        worker = start_worker(shared, tmp_path / "worker")
        try:
            status = record["status"]
            for _ in range(240):
                r = await http.get(f"{API}/{record['id']}", headers=me.headers)
                status = r.json()["status"]
                if status in ("COMPLETED", "FAILED") or worker.poll() is not None:
                    break
                await asyncio.sleep(0.25)
        finally:
            worker.send_signal(signal.SIGINT)
            try:
                output = worker.communicate(timeout=30)[0].decode(errors="replace")
            except subprocess.TimeoutExpired:
                worker.kill()
                output = worker.communicate()[0].decode(errors="replace")
        assert status == "COMPLETED", output[-3000:]
        r = await http.get(f"{API}/{record['id']}/text", headers=me.headers)
        text = r.json()["text"]
        assert all(page in text for page in PAGES)
        assert r.json()["pages"] == 2
        r = await http.get(f"/api/v1/jobs/{record['job_id']}", headers=me.headers)
        assert r.json()["status"] == "succeeded"
