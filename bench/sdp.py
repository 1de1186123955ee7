"""Software Design Package benchmark: export + validation of a large 9-stage project.

One command: ``.venv/bin/python bench/sdp.py`` (``make bench`` runs it too). Options:
``--entities N`` (30), ``--endpoints N`` (60), ``--runs N`` (30), ``--output``; ``--quick``
(what CI runs through bench/run_all.py): 6 entities, 12 endpoints, 3 runs (1 of the
reference check, 2 through the API), results to bench/results/quick/sdp.json, to check that
every row still runs.

The project is synthetic but shaped like a real one: N entities of 10 fields each (ids,
foreign keys, enums, timestamps), a relationship per foreign key, M endpoints over those
entities (list/get/create/update/delete with fields), sections referencing every endpoint,
and the prose stages from tests/sdp/examples.py. Each figure is the median of ``--runs``
runs after one warm-up:

* ``package``: ``build_package`` — every stage's files (Markdown, SQL for both dialects
  compiled from the data model, the OpenAPI 3.1 document rendered and validated), the
  cross-reference validation, the index and the manifest with checksums — then the zip
  (``zip_bytes``). Target <= 100 ms. Nothing is remembered between runs: each one checks
  the OpenAPI document in full (atelier.packs.sdp.openapi_check, compiled jsonschema-rs
  validators).
* ``openapi check``: that check alone, and for comparison openapi-spec-validator's check
  of the same document (what the export used before; the tests hold both to the same
  verdicts).
* ``api``: ``POST /api/v1/projects/{id}/exports`` through the app (in-process ASGI, a fresh
  SQLite data dir): the snapshot from the database, the package, storage, the row.
* Baseline, same run: ``json.dumps`` of every stage's data plus ``zipfile`` of those JSON
  texts — merely serialising and zipping the same content. ``ratio`` = package / baseline,
  i.e. what rendering and checking costs over writing the data out.

A MISS is reported, not raised (exit status 0). Results go to bench/results/sdp.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.sdp.examples import OUTPUTS  # noqa: E402

from atelier.exports.packages import zip_bytes  # noqa: E402
from atelier.packs.sdp.api_spec import ApiDesign, render_openapi  # noqa: E402
from atelier.packs.sdp.datamodel import DataModel  # noqa: E402
from atelier.packs.sdp.openapi_check import openapi_problems  # noqa: E402
from atelier.packs.sdp.package import ProjectSnapshot, StageSnapshot, build_package  # noqa: E402
from atelier.packs.sdp.sqlgen import compile_all  # noqa: E402
from atelier.packs.sdp.stages import STAGES  # noqa: E402

TARGET_MS = 100.0
RESULTS = REPO / "bench" / "results" / "sdp.json"
QUICK_RESULTS = REPO / "bench" / "results" / "quick" / "sdp.json"


def data_model(entities: int) -> dict[str, Any]:
    names = [f"Entity{n:02d}" for n in range(entities)]
    items, relationships = [], []
    for n, name in enumerate(names):
        fields = [
            {"name": "id", "type": "uuid", "required": True, "description": "Primary key"},
            {"name": "name", "type": "string", "required": True, "description": "Display name"},
            {"name": "notes", "type": "text", "required": False, "description": "Free text"},
            {"name": "amount", "type": "decimal", "required": False, "description": "Money"},
            {"name": "active", "type": "boolean", "required": True, "description": "Flag"},
            {
                "name": "status",
                "type": "enum(draft,active,archived)",
                "required": True,
                "description": "Lifecycle",
            },
            {"name": "createdAt", "type": "datetime", "required": True, "description": "Created"},
            {"name": "updatedAt", "type": "datetime", "required": True, "description": "Updated"},
        ]
        # Two parents per entity (when there are earlier entities): a tree of references.
        for parent in {names[n // 2], names[max(0, n - 1)]} if n else set():
            key = parent[0].lower() + parent[1:] + "Id"
            fields.append(
                {"name": key, "type": "uuid", "required": True, "description": f"FK to {parent}"}
            )
            relationships.append(
                {
                    "from": parent,
                    "to": name,
                    "type": "one-to-many",
                    "foreignKey": key,
                    "description": f"A {parent} has many {name}",
                }
            )
        items.append({"name": name, "description": f"Records of kind {n}", "fields": fields})
    return {"entities": items, "relationships": relationships}


def api_design(model: dict[str, Any], endpoints: int) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    shapes = [
        ("GET", "/{plural}", [], ["id", "name", "status"]),
        ("POST", "/{plural}", ["name", "status"], ["id", "name", "status", "createdAt"]),
        ("GET", "/{plural}/{{id}}", [], ["id", "name", "notes", "status"]),
        ("PATCH", "/{plural}/{{id}}", ["name", "notes"], ["id", "name", "notes"]),
        ("DELETE", "/{plural}/{{id}}", [], []),
    ]
    n = 0
    while len(out) < endpoints:
        entity = model["entities"][n % len(model["entities"])]["name"]
        method, path, request, response = shapes[(n // len(model["entities"])) % len(shapes)]
        out.append(
            {
                "method": method,
                "path": path.format(plural=entity.lower() + "s"),
                "summary": f"{method} {entity}",
                "entity": entity,
                "auth": True,
                "request_fields": request,
                "response_fields": response,
            }
        )
        n += 1
    return {"base_path": "/api/v1", "endpoints": out}


def sections(api: dict[str, Any]) -> dict[str, Any]:
    refs = [f"{e['method']} {e['path']}" for e in api["endpoints"]]
    return {
        "sections": [
            {
                "name": f"Section {n}",
                "route": f"/section-{n}",
                "purpose": "Work with records",
                "screens": ["List", "Detail"],
                "endpoints": refs[n * 6 : n * 6 + 6],
            }
            for n in range((len(refs) + 5) // 6)
        ]
    }


def snapshot(entities: int, endpoints: int) -> ProjectSnapshot:
    model = data_model(entities)
    api = api_design(model, endpoints)
    from atelier.packs.sdp.datamodel import DataModel

    sql = compile_all(DataModel.model_validate(model))
    data = {
        **OUTPUTS,
        "dataModel": model,
        "database": {"sqlite": sql["sqlite"], "postgresql": sql["postgresql"]},
        "api": api,
        "sections": sections(api),
    }
    stages = [
        StageSnapshot(
            number=s.number,
            name=s.name,
            label=s.label,
            status="complete",
            version=1,
            generated_by="ai",
            data=data.get(s.name),
        )
        for s in STAGES[:8]
    ]
    stages.append(StageSnapshot(9, "export", STAGES[8].label, "active"))
    return ProjectSnapshot(
        name="Large design", slug="large", description="Benchmark", stages=stages
    )


def median_ms(func: Callable[[], object], runs: int) -> float:
    func()  # warm-up: imports, schema caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def package_once(snap: ProjectSnapshot) -> bytes:
    return zip_bytes(build_package(snap).files)


def reference_check(doc: dict[str, Any]) -> list[Any]:
    from openapi_spec_validator import OpenAPIV31SpecValidator

    return list(OpenAPIV31SpecValidator(doc).iter_errors())


def baseline_once(snap: ProjectSnapshot) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for stage in snap.stages:
            if stage.data:
                archive.writestr(f"{stage.name}.json", json.dumps(stage.data, indent=2))
    return buffer.getvalue()


async def api_ms(snap: ProjectSnapshot, runs: int) -> float:
    """POST /exports through the app on SQLite, the stages written through the API."""
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per request
    from httpx import ASGITransport, AsyncClient
    from tests.factories import Api

    from atelier import migrate
    from atelier.app import create_app
    from atelier.config import Settings

    folder = Path(tempfile.mkdtemp(prefix="atelier-bench-sdp-"))
    url = f"sqlite+aiosqlite:///{folder / 'atelier.db'}"
    await asyncio.to_thread(migrate.upgrade, url)
    app = create_app(Settings(env="test", database_url=url, data_dir=folder))
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://bench") as http:
        api = Api(http)
        me = await api.signup()
        project = await api.project(me, name="Large design", pack="sdp")
        base = f"/api/v1/projects/{project['id']}"
        for stage in snap.stages[:8]:
            if stage.name == "database":
                r = await http.post(
                    f"{base}/stages/3/generate", json={"ai": False}, headers=me.headers
                )
            else:
                r = await http.patch(
                    f"{base}/stages/{stage.number}", json={"data": stage.data}, headers=me.headers
                )
            assert r.status_code == 200, r.text
            r = await http.post(f"{base}/stages/{stage.number}/complete", headers=me.headers)
            assert r.status_code == 200, r.text
        times = []
        for n in range(runs + 1):
            start = time.perf_counter()
            r = await http.post(f"{base}/exports", json={"format": "zip"}, headers=me.headers)
            elapsed = (time.perf_counter() - start) * 1000
            assert r.status_code == 201, r.text
            if n:  # the first is the warm-up
                times.append(elapsed)
    await app.state.engine.dispose()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="CI's check that it runs: a small project, 3 runs"
    )
    parser.add_argument("--entities", type=int, default=None, help="30 (quick 6)")
    parser.add_argument("--endpoints", type=int, default=None, help="60 (quick 12)")
    parser.add_argument("--runs", type=int, default=None, help="30 (quick 3)")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.entities is None:
        args.entities = 6 if args.quick else 30
    if args.endpoints is None:
        args.endpoints = 12 if args.quick else 60
    if args.runs is None:
        args.runs = 3 if args.quick else 30
    if args.output is None:
        args.output = QUICK_RESULTS if args.quick else RESULTS
    if min(args.entities, args.endpoints, args.runs) < 1:
        parser.error("--entities, --endpoints and --runs must be >= 1")
    # openapi-spec-validator takes ~0.5 s a check, the API export tens of ms: fewer runs.
    reference_runs = 1 if args.quick else max(3, args.runs // 6)
    api_runs = 2 if args.quick else max(5, args.runs // 3)
    if args.quick:
        print("quick mode: sizes too small to read; this checks that the benchmark runs")

    snap = snapshot(args.entities, args.endpoints)
    package = build_package(snap)
    package_ms = median_ms(lambda: package_once(snap), args.runs)
    baseline_ms = median_ms(lambda: baseline_once(snap), args.runs)
    doc = render_openapi(
        ApiDesign.model_validate(api_design(data_model(args.entities), args.endpoints)),
        DataModel.model_validate(data_model(args.entities)),
        title="Large design",
    )
    check_ms = median_ms(lambda: openapi_problems(doc), args.runs)
    reference_ms = median_ms(lambda: reference_check(doc), reference_runs)
    through_api_ms = asyncio.run(api_ms(snap, api_runs))
    verdict = "PASS" if package_ms <= TARGET_MS else "MISS"
    print(
        f"SDP package ({args.entities} entities, {args.endpoints} endpoints, "
        f"{len(package.files)} files, {sum(map(len, package.files.values())) // 1024} kB; "
        f"validation: {package.report.status}, {len(package.report.messages)} messages)"
    )
    print(
        f"  package + validation + zip: {package_ms:7.1f} ms  target <= {TARGET_MS:.0f} ms  "
        f"{verdict}"
    )
    print(
        f"  OpenAPI check alone:        {check_ms:7.1f} ms  "
        f"(openapi-spec-validator: {reference_ms:.1f} ms, {reference_ms / check_ms:.0f}x)"
    )
    print(
        f"  baseline (json + zip):      {baseline_ms:7.1f} ms  ratio {package_ms / baseline_ms:.1f}"
    )
    print(f"  POST /exports (SQLite):     {through_api_ms:7.1f} ms")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
                "entities": args.entities,
                "endpoints": args.endpoints,
                "files": len(package.files),
                "package_ms": package_ms,
                "openapi_check_ms": check_ms,
                "openapi_spec_validator_ms": reference_ms,
                "baseline_ms": baseline_ms,
                "ratio": package_ms / baseline_ms,
                "api_ms": through_api_ms,
                "target_ms": TARGET_MS,
                "verdict": verdict,
                "validation": package.report.status,
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
