"""The API keeps its contract under fuzzing: schemathesis against a real server.

`atelier serve` runs as a subprocess on a temporary SQLite data directory, with jobs
not run in process (a fuzzed generation request only queues a job; no model runs).
Schemathesis generates requests for every operation of /openapi.json, valid and
invalid, and checks each answer: no 5xx, a documented status, the documented content
type and a body that matches the documented schema. The run is bounded (a fixed number
of examples per operation) and seeded, so a failure reproduces with the same seed.

What it printed (operations, test cases, failures by check, running time) is written to
``fuzz-summary.txt`` in the test's temporary directory and is part of any failure
message; the schemathesis output and the server log sit beside it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tests.ai.fake_openai_server import unused_port
from tests.factories import BRIEF_INPUT, BRIEF_OUTPUT
from tests.sdp.examples import OUTPUTS

SEED = 20261207
# With the free-form JSON check taken out (a 500 on a 2**64 integer), 20 examples per
# operation did not find it and 100 did; that bug has its own test now
# (tests/test_strict_json.py). With 117 operations, 100 examples each took 8 minutes of
# a 2-core machine (2026-12-08), the longest test by far: 60 keep most of the reach.
EXAMPLES_PER_OPERATION = 60
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
# Every operation is fuzzed. A job's event stream (a chat reply's too) ends only when the
# job finishes, and with jobs not run in process a queued job never does (schemathesis
# finds real job ids
# by following links from the generation endpoints): its answers are read up to the
# first event, or for a few seconds when no event comes (``after`` past the last one).
CONFIG = """
[[operations]]
include-path = "/api/v1/jobs/{job_id}/events"
max-stream-events = 1
request-timeout = 3

[[operations]]
include-path = "/api/v1/conversations/{conversation_id}/events"
max-stream-events = 1
request-timeout = 3
"""
START_TIMEOUT = 60.0
# Generous: a bound on a stuck run, not a measure of speed.
RUN_TIMEOUT = 1200.0
HOOKS = Path(__file__).with_name("fuzz_hooks.py")
PASSWORD = "fuzz password, long enough"


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(proxy, None)
    env.update(
        ATELIER_ENV="test",
        ATELIER_DATA_DIR=str(data_dir),
        ATELIER_SECRET_KEY="fuzz-test-secret-key-" + "x" * 32,
        ATELIER_RUN_JOBS_IN_PROCESS="false",
        ATELIER_LOG_LEVEL="WARNING",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def _atelier(*args: str) -> list[str]:
    return [sys.executable, "-m", "atelier.cli", *args]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A migrated data directory and `atelier serve` on a free port: its base URL."""
    env = _env(tmp_path / "data")
    upgrade = subprocess.run(
        _atelier("db", "upgrade"), env=env, capture_output=True, text=True, timeout=120
    )
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    port = unused_port()
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            _atelier("serve", "--port", str(port)),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise AssertionError(f"atelier serve exited early:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=5.0, trust_env=False).is_success:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"atelier serve did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class _Seeder:
    """Objects made through the API before the run, so that fuzzed requests reach more
    than "404, no such id": schemathesis picks path parameters (and a few body fields)
    from these ids half of the time, and generates the other half."""

    def __init__(self, http: httpx.Client, headers: dict[str, str]) -> None:
        self.http = http
        self.headers = headers

    def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.post(path, json=body, headers=self.headers)
        assert response.status_code in (200, 201, 202), f"{path}: {response.text}"
        return dict(response.json())

    def upload(self, project_id: str) -> str:
        """A text upload in the project (processing is left queued: nothing runs jobs)."""
        response = self.http.post(
            "/uploads",
            files={"file": ("fuzz notes.txt", b"notes the fuzzer may search", "text/plain")},
            data={"project_id": project_id},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.patch(path, json=body, headers=self.headers)
        assert response.status_code == 200, f"{path}: {response.text}"
        return dict(response.json())

    def projects(self) -> tuple[str, str, str]:
        """A general project with a generated-looking artifact, a software design
        project, and an organization: their ids."""
        org = self.post("/organizations", {"name": "Fuzz org", "slug": f"fuzz-{uuid4().hex[:8]}"})
        general = self.post("/projects", {"name": "Fuzz general", "organization_id": org["id"]})
        sdp = self.post("/projects", {"name": "Fuzz design", "pack": "sdp"})
        # Two hand-written outputs of stage 1, so that the stage's outputs, versions and
        # activation reach their logic rather than "no such version".
        for name in ("Tasklane", "Tasklane 2"):
            self.patch(
                f"/projects/{sdp['id']}/stages/1", {"data": {**OUTPUTS["product"], "name": name}}
            )
        return general["id"], sdp["id"], org["id"]

    def artifact(self, project_id: str) -> str:
        artifact = self.post(
            f"/projects/{project_id}/artifacts",
            {"type": "brief", "name": "Fuzz brief", "input_data": BRIEF_INPUT},
        )
        # An output makes version 1, and lets smart-populate, exports and versions work.
        self.patch(f"/artifacts/{artifact['id']}", {"output_data": BRIEF_OUTPUT})
        return str(artifact["id"])


def _seed(base: str) -> tuple[str, dict[str, list[Any]]]:
    """A user of its own, an API key with every scope, and objects for the fuzzer to
    find: the key, and the ids (by kind; ``doomed_*`` ones are for DELETE operations, so
    that deleting cannot take away what the other operations work on).

    A key rather than the session token: POST /auth/logout answers an API key 400 (not a
    session), so the fuzzer can call it without signing itself out."""
    with httpx.Client(base_url=f"{base}/api/v1", timeout=60.0, trust_env=False) as http:
        signup = http.post(
            "/auth/signup",
            json={"email": "fuzzer@example.com", "name": "Fuzzer", "password": PASSWORD},
        )
        assert signup.status_code == 201, signup.text
        me = signup.json()["user"]["id"]
        seed = _Seeder(http, {"Authorization": f"Bearer {signup.json()['token']}"})
        key = seed.post("/api-keys", {"label": "fuzzer", "scopes": ["read", "write", "keys"]})
        member = http.post(
            "/auth/signup",
            json={"email": "member@example.com", "name": "Member", "password": PASSWORD},
        )
        assert member.status_code == 201, member.text
        # The instance's default provider (the embedded model) is not installed here: a
        # provider of the user's own lets generation requests queue their jobs.
        provider_body = {
            "provider": "custom",
            "label": "Fuzz provider",
            "api_key": "sk-fuzz",
            # Nothing listens there: a provider test fails fast, and no job runs anyway.
            "base_url": "http://127.0.0.1:9/v1",
            "default_model": "fuzz-model",
            "is_default": True,
        }
        ids: dict[str, list[Any]] = {}
        for kind in ("", "doomed_"):
            general, sdp, org = seed.projects()
            seed.post(f"/organizations/{org}/members", {"email": "member@example.com"})
            artifact = seed.artifact(general)
            found = {
                "projects": [general, sdp],
                "sdp_projects": [sdp],
                "organizations": [org],
                "artifacts": [artifact],
                "providers": [seed.post("/ai-providers", provider_body)["id"]],
                "exports": [seed.post(f"/projects/{sdp}/exports")["id"]],
                "templates": [
                    seed.post(f"/projects/{sdp}/save-as-template", {"name": "Fuzz template"})["id"]
                ],
                "mcp_tokens": [seed.post(f"/projects/{sdp}/mcp-tokens", {"label": "fuzz"})["id"]],
                "jobs": [seed.post(f"/artifacts/{artifact}/generate")["id"]],
                "api_keys": [seed.post("/api-keys", {"label": "spare"})["id"]],
                "uploads": [seed.upload(general)],
                "conversations": [
                    seed.post("/conversations", {"title": "Fuzz chat", "project_id": general})["id"]
                ],
            }
            for name, values in found.items():
                ids[kind + name] = values
        ids["users"] = [me, member.json()["user"]["id"]]
        ids["tools"] = ["brief", "value_proposition", "outcomes_model"]
        ids["versions"] = [1, 2]
        ids["stages"] = list(range(1, 10))
        return str(key["key"]), ids


# Parameter (location.name) → the kind of ids it takes.
_BINDINGS = {
    "path.project_id": "projects",
    "query.project_id": "projects",
    "path.artifact_id": "artifacts",
    "query.artifact_id": "artifacts",
    "path.org_id": "organizations",
    "body.organization_id": "organizations",
    "path.user_id": "users",
    "path.provider_id": "providers",
    "body.provider_id": "providers",
    "path.export_id": "exports",
    "path.template_id": "templates",
    "body.template_id": "templates",
    "path.token_id": "mcp_tokens",
    "path.job_id": "jobs",
    "path.key_id": "api_keys",
    "path.tool_key": "tools",
    "path.version": "versions",
    "path.number": "stages",
    "path.upload_id": "uploads",
    "path.conversation_id": "conversations",
}
_DOOMED = {
    "projects",
    "artifacts",
    "organizations",
    "providers",
    "exports",
    "templates",
    "uploads",
    "conversations",
}


def _config(ids: dict[str, list[Any]]) -> str:
    """schemathesis.toml: the event stream's bounds, the dictionaries of seeded ids and
    which parameters draw from them (DELETE operations from the doomed ones)."""

    def binding(kind: str) -> str:
        return f'{{ dictionary = "{kind}", probability = 0.5 }}'

    lines = [CONFIG]
    for name, values in ids.items():
        lines.append(f"[dictionaries.{name}]\nvalues = {json.dumps(values)}\n")
    lines.append("[parameters]")
    for parameter, kind in _BINDINGS.items():
        kind = "doomed_" + kind if kind in ("mcp_tokens", "api_keys") else kind
        lines.append(f'"{parameter}" = {binding(kind)}')
    # The stage operations: a software design project's stages (another pack has none).
    lines.append('\n[[operations]]\ninclude-path-regex = "/stages"\n[operations.parameters]')
    lines.append(f'"path.project_id" = {binding("sdp_projects")}')
    lines.append('\n[[operations]]\ninclude-method = "DELETE"\n[operations.parameters]')
    for parameter, kind in _BINDINGS.items():
        if parameter.startswith("path.") and kind in _DOOMED:
            lines.append(f'"{parameter}" = {binding("doomed_" + kind)}')
    return "\n".join(lines) + "\n"


def _summary(report: dict[str, Any], seconds: float, returncode: int) -> str:
    operations = report.get("operations", {})
    cases = report.get("test_cases", {})
    lines = [
        f"schemathesis {report.get('schemathesis_version')} seed {report.get('seed')}, "
        f"exit code {returncode}, stop reason {report.get('stop_reason')}",
        f"operations: {operations.get('selected')} selected of {operations.get('total')}, "
        f"{operations.get('tested')} tested, {operations.get('errored')} errored, "
        f"{operations.get('skipped')} skipped",
        f"test cases: {cases.get('generated')} generated, "
        f"{cases.get('with_failures')} with failures, {cases.get('errored')} errored",
        "phases: "
        + ", ".join(f"{name} {p.get('status')}" for name, p in report.get("phases", {}).items()),
    ]
    failures = report.get("failures", [])
    lines.append(f"failures by check: {len(failures)} kinds")
    for failure in failures:
        lines.append(
            f"  {failure.get('code')} {failure.get('title')}: {failure.get('count')} "
            f"in {', '.join(failure.get('operations', []))}"
        )
    for error in report.get("errors", []):
        lines.append(f"  error {error.get('title')}: {error.get('count')}")
    lines.append(f"running time: {seconds:.1f} s (schemathesis: {report.get('running_time')} s)")
    return "\n".join(lines)


def test_api_keeps_its_contract_under_fuzzing(server: str, tmp_path: Path) -> None:
    key, ids = _seed(server)
    report_path = tmp_path / "schemathesis.json"
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(ids))
    command = [
        str(Path(sys.executable).with_name("st")),
        "--no-color",
        "--config-file",
        str(config),
        "run",
        f"{server}/openapi.json",
        "--header",
        f"Authorization: Bearer {key}",
        "--checks",
        ",".join(CHECKS),
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(SEED),
        # Examples found in earlier runs would make this run differ from the last one.
        "--generation-database",
        "none",
        "--request-timeout",
        "60",
        "--report",
        "json",
        "--report-json-path",
        str(report_path),
    ]
    env = {**_env(tmp_path / "data"), "SCHEMATHESIS_HOOKS": str(HOOKS)}
    started = time.monotonic()
    # cwd: schemathesis writes its default report folder and looks for a config there.
    run = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT
    )
    seconds = time.monotonic() - started
    (tmp_path / "schemathesis.out").write_text(run.stdout + run.stderr)
    assert report_path.is_file(), f"no report; schemathesis said:\n{run.stdout}\n{run.stderr}"
    report = json.loads(report_path.read_text())
    summary = _summary(report, seconds, run.returncode)
    (tmp_path / "fuzz-summary.txt").write_text(summary + "\n")
    print(summary)

    # The fuzzer's own key must have survived the run, or the operations after its loss
    # were only ever answered 401 and tested nothing.
    me = httpx.get(
        f"{server}/api/v1/me",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30.0,
        trust_env=False,
    )
    assert me.status_code == 200, f"the fuzzer lost its API key ({me.status_code})\n{summary}"
    details = run.stdout[-20_000:]
    assert report["operations"]["tested"] == report["operations"]["selected"], summary
    assert not report.get("failures"), f"{summary}\n\n{details}"
    assert not report.get("errors"), f"{summary}\n\n{details}"
    assert run.returncode == 0, f"{summary}\n\n{details}"
