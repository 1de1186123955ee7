"""The server process killed mid-job and restarted: the job is not stuck.

For real: `atelier serve` runs as a subprocess on a temporary SQLite data directory, or
on a throwaway PostgreSQL database (where its jobs are delivered by its in-process
procrastinate worker), and talks to the fake OpenAI-compatible server (in this test
process) over a socket. The first answer hangs, the server is SIGKILLed while the job
waits for it, and a new server on the same database finds the abandoned job by its
stale heartbeat: it runs again (and succeeds), or, once its attempts are used up, fails
as worker_lost.

Plain sync tests: subprocesses and an ``httpx.Client``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.ai import fake_openai_server as fake
from tests.ai.fake_openai_server import FakeServer, Reply, Sleep, unused_port
from tests.conftest import BACKENDS, _pg_database
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT, PASSWORD, unique_email

# The fake server's fixtures: one server for this module, reset for every test.
openai_server = fake.openai_server
fake_openai = fake.fake_openai

START_TIMEOUT = 30.0
JOB_TIMEOUT = 30.0
HANG = Sleep(60.0, then=Reply(json.dumps(BRIEF_OUTPUT)))


def _env(data_dir: Path, stale_seconds: float, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(proxy, None)
    env.update(
        ATELIER_DATA_DIR=str(data_dir),
        ATELIER_DATABASE_URL=database_url,
        ATELIER_JOB_STALE_SECONDS=str(stale_seconds),
        ATELIER_LOG_LEVEL="WARNING",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


class Server:
    """One `atelier serve` subprocess on a free port."""

    def __init__(self, data_dir: Path, stale_seconds: float, database_url: str, log: Path) -> None:
        self.port = unused_port()
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "atelier.cli", "serve", "--port", str(self.port)],
                env=_env(data_dir, stale_seconds, database_url),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.client = httpx.Client(
            base_url=f"http://127.0.0.1:{self.port}", timeout=10.0, trust_env=False
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"atelier serve exited early:\n{self.log.read_text()}")
            try:
                if self.client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"atelier serve did not start:\n{self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no requeue; the job is left 'running'."""
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[str]:
    """A migrated database of each back end, for this test's servers alone."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite+aiosqlite:///{data_dir / 'atelier.db'}"])
    else:
        urls = _pg_database()
    for url in urls:
        result = subprocess.run(
            [sys.executable, "-m", "atelier.cli", "db", "upgrade"],
            env=_env(data_dir, 60, url),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        yield url


def _sql(database_url: str, statement: str) -> list[Any]:
    """Run one statement on the servers' database from the test (synchronously)."""
    sync_url = database_url.replace("sqlite+aiosqlite://", "sqlite://", 1)
    engine = create_engine(sync_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()


@pytest.fixture
def serve(data_dir: Path, database_url: str, tmp_path: Path) -> Iterator[Callable[[float], Server]]:
    """Start `atelier serve` on the database; every server is killed at teardown."""
    started: list[Server] = []

    def start(stale_seconds: float) -> Server:
        server = Server(data_dir, stale_seconds, database_url, tmp_path / "serve.log")
        started.append(server)  # before waiting: killed at teardown even if it never starts
        server.wait_ready()
        return server

    yield start
    for server in started:
        server.kill()


def _wait_for(what: str, probe: Callable[[], Any], timeout: float = JOB_TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; last seen: {last!r}")


def _setup(server: Server, fake_server: FakeServer) -> tuple[dict[str, str], dict[str, Any]]:
    """Sign up, add the custom provider, make a project and a brief with generate."""
    http = server.client
    r = http.post(
        "/api/v1/auth/signup",
        json={"email": unique_email("crash"), "name": "Crash", "password": PASSWORD},
    )
    assert r.status_code == 201, r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    r = http.post(
        "/api/v1/ai-providers",
        json={
            "provider": "custom",
            "label": "fake",
            "base_url": f"{fake_server.url}/v1",
            "default_model": "m",
            "is_default": True,
        },
        headers=headers,
    )
    assert r.status_code == 201, r.text
    r = http.post("/api/v1/projects", json={"name": "Crash test"}, headers=headers)
    assert r.status_code == 201, r.text
    r = http.post(
        f"/api/v1/projects/{r.json()['id']}/artifacts",
        json={"type": "brief", "name": "Brief", "input_data": BRIEF_INPUT, "generate": True},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    artifact = r.json()
    assert artifact["job"]["status"] == "queued"
    return headers, artifact


def _job(server: Server, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    r = server.client.get(f"/api/v1/jobs/{job_id}", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _wait_mid_call(
    server: Server, job_id: str, headers: dict[str, str], fake_server: FakeServer, attempt: int
) -> None:
    """Until run ``attempt`` of the job is running and waiting on the provider's answer."""
    _wait_for(
        f"run {attempt} to be running",
        lambda: (
            (job := _job(server, job_id, headers))["status"] == "running"
            and job["attempts"] == attempt
            and job
        ),
    )
    _wait_for(f"provider call {attempt}", lambda: len(fake_server.state.requests) >= attempt)


def _event_kinds(server: Server, job_id: str, headers: dict[str, str]) -> list[str]:
    """The job's events; the SSE stream ends after the closing event of a finished job."""
    r = server.client.get(f"/api/v1/jobs/{job_id}/events", headers=headers, timeout=30.0)
    assert r.status_code == 200, r.text
    return [line[7:] for line in r.text.splitlines() if line.startswith("event: ")]


def _artifact_state(server: Server, artifact_id: str, headers: dict[str, str]) -> Any:
    r = server.client.get(f"/api/v1/artifacts/{artifact_id}", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    versions = server.client.get(f"/api/v1/artifacts/{artifact_id}/versions", headers=headers)
    assert versions.status_code == 200, versions.text
    return (
        body["input_data"],
        body["output_data"],
        body["active_version"],
        versions.json()["items"],
    )


def test_killed_mid_job_the_job_runs_again_after_restart(
    serve: Callable[[float], Server], fake_openai: FakeServer, database_url: str
) -> None:
    first = serve(5)
    headers, artifact = _setup(first, fake_openai)
    job_id = artifact["job"]["id"]
    fake_openai.state.push(HANG)
    _wait_mid_call(first, job_id, headers, fake_openai, attempt=1)

    first.kill()
    fake_openai.state.push(Reply(json.dumps(BRIEF_OUTPUT), prompt_tokens=40, completion_tokens=9))
    second = serve(5)

    job = _wait_for(
        "the job to succeed",
        lambda: (job := _job(second, job_id, headers))["status"] in ("succeeded", "failed") and job,
    )
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2
    assert job["result"]["version"] == 1

    r = second.client.get(f"/api/v1/artifacts/{artifact['id']}", headers=headers)
    assert r.json()["output_data"] == BRIEF_OUTPUT and r.json()["active_version"] == 1
    assert BRIEF_INPUT.items() <= r.json()["input_data"].items()
    r = second.client.get(f"/api/v1/artifacts/{artifact['id']}/versions", headers=headers)
    (version,) = r.json()["items"]
    assert version["generated_by"] == "ai" and version["ai_generation_id"]
    r = second.client.get("/api/v1/ai-generations", headers=headers)
    (row,) = r.json()["items"]  # the killed call left no row; the second one succeeded
    assert row["status"] == "success" and row["provider"] == "custom"
    assert (row["input_tokens"], row["output_tokens"]) == (40, 9)

    kinds = _event_kinds(second, job_id, headers)
    assert "requeued" in kinds, kinds
    assert kinds.count("started") == 2, kinds
    assert kinds.index("requeued") < len(kinds) - 1 - kinds[::-1].index("started")
    assert kinds[-1] == "succeeded", kinds
    assert len(fake_openai.state.requests) == 2
    if database_url.startswith("postgresql"):
        # The killed worker's delivery was given up; the new one ran and was removed.
        statuses = _sql(database_url, "SELECT status FROM procrastinate_jobs")
        assert [row[0] for row in statuses] == ["failed"]


def test_killed_until_attempts_run_out_the_job_fails_as_worker_lost(
    serve: Callable[[float], Server], fake_openai: FakeServer, database_url: str
) -> None:
    first = serve(5)
    headers, artifact = _setup(first, fake_openai)
    job_id = artifact["job"]["id"]
    fake_openai.state.push(HANG, HANG, HANG)
    _wait_mid_call(first, job_id, headers, fake_openai, attempt=1)
    before = _artifact_state(first, artifact["id"], headers)
    assert BRIEF_INPUT.items() <= before[0].items() and before[3] == []

    first.kill()
    assert _sql(database_url, "SELECT count(*) FROM jobs") == [(1,)]
    _sql(database_url, "UPDATE jobs SET max_attempts = 2")
    second = serve(5)
    _wait_mid_call(second, job_id, headers, fake_openai, attempt=2)

    second.kill()
    third = serve(5)
    job = _wait_for(
        "the job to fail",
        lambda: (
            (job := _job(third, job_id, headers))["status"] not in ("queued", "running") and job
        ),
    )
    assert job["status"] == "failed", job
    assert job["error_code"] == "worker_lost"
    assert job["attempts"] == 2
    assert "stopped 2 times" in job["error_message"]
    assert job["finished_at"] is not None

    kinds = _event_kinds(third, job_id, headers)
    assert kinds.count("requeued") == 1, kinds
    assert kinds.count("started") == 2, kinds
    assert kinds[-1] == "failed", kinds
    # A lost run changes nothing: same inputs, still no version.
    assert _artifact_state(third, artifact["id"], headers) == before
    assert len(fake_openai.state.requests) == 2
