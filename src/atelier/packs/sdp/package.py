"""A Software Design Package: every stage's files, an index, a manifest with checksums,
and the cross-reference validation report. Pure and deterministic: the same stages give
byte-identical files, which is what makes export → import → export reproducible.

Layout::

    README.md                     index: the project, its stages, the validation summary
    manifest.json                 format, project, stages (status, version, files), checksums
    01-product/product.md         + product.json
    02-data-model/data-model.md   + data-model.json   (seed 001 shapes)
    03-database/schema.sqlite.sql + schema.postgresql.sql + database.json
    04-api/openapi.yaml           + endpoints.json    (OpenAPI 3.1, rendered from the list)
    05-stack/stack.md             + stack.yaml
    06-design/design.md           + design.json
    07-sections/sections.md       + sections.json
    08-infrastructure/infrastructure.md + infrastructure.yaml
    09-export/validation.json     the cross-reference report

Each stage's data file (``DATA_FILES``) holds its whole active output: an import reads
only those and renders the rest again.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from atelier.exports.markdown import escape_inline, output_markdown
from atelier.packs.sdp import outputs
from atelier.packs.sdp.api_spec import ApiDesign, openapi_yaml, render_openapi
from atelier.packs.sdp.crossref import PackageContents, ValidationReport, validate_package
from atelier.packs.sdp.datamodel import DataModel
from atelier.packs.sdp.datamodel_markdown import render_markdown as data_model_markdown
from atelier.packs.sdp.stage_tools import DatabaseSchema
from atelier.packs.sdp.stages import STAGES, StageSpec
from atelier.packs.sdp.yamlio import dump_yaml

FORMAT = "atelier-sdp/1"
MANIFEST = "manifest.json"
INDEX = "README.md"

# Each stage's data file: its active output, whole. Stage 9 has the report instead.
DATA_FILES: dict[str, str] = {
    "product": "01-product/product.json",
    "dataModel": "02-data-model/data-model.json",
    "database": "03-database/database.json",
    "api": "04-api/endpoints.json",
    "stack": "05-stack/stack.yaml",
    "design": "06-design/design.json",
    "sections": "07-sections/sections.json",
    "infrastructure": "08-infrastructure/infrastructure.yaml",
}
VALIDATION_FILE = "09-export/validation.json"
SQL_FILES = {
    "sqlite": "03-database/schema.sqlite.sql",
    "postgresql": "03-database/schema.postgresql.sql",
}
OPENAPI_FILE = "04-api/openapi.yaml"

# What each stage's stored output validates against.
STORED_MODELS: dict[str, type[BaseModel]] = {
    "product": outputs.ProductDefinition,
    "dataModel": DataModel,
    "database": DatabaseSchema,
    "api": ApiDesign,
    "stack": outputs.StackDecision,
    "design": outputs.DesignSystem,
    "sections": outputs.SectionsPlan,
    "infrastructure": outputs.Infrastructure,
}


@dataclass(slots=True)
class StageSnapshot:
    """One stage as exported: its lifecycle and its active output (None if it has none)."""

    number: int
    name: str
    label: str
    status: str
    needs_review: bool = False
    user_input: str | None = None
    version: int | None = None
    generated_by: str | None = None
    data: dict[str, Any] | None = None


@dataclass(slots=True)
class ProjectSnapshot:
    name: str
    slug: str
    description: str | None
    stages: list[StageSnapshot]
    template: str | None = None


@dataclass(slots=True)
class Package:
    files: dict[str, bytes]  # path → content, manifest and index included
    manifest: dict[str, Any]
    report: ValidationReport
    manifest_sha256: str = ""
    stage_files: dict[str, list[str]] = field(default_factory=dict)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dump_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def stored(name: str, data: dict[str, Any] | None) -> BaseModel | None:
    """A stage's stored output as its model; None when absent or (hand-edited) invalid."""
    model = STORED_MODELS.get(name)
    if model is None or not data:
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


@functools.cache
def _schema(name: str) -> dict[str, Any]:
    return STORED_MODELS[name].model_json_schema()


def _markdown(spec: StageSpec, data: dict[str, Any]) -> str:
    return output_markdown(spec.label, data, _schema(spec.name))


def _database_files(schema: DatabaseSchema) -> dict[str, str]:
    return {SQL_FILES["sqlite"]: schema.sqlite, SQL_FILES["postgresql"]: schema.postgresql}


def _api_files(api: ApiDesign, data_model: DataModel | None, project: ProjectSnapshot) -> str:
    document = render_openapi(
        api, data_model, title=project.name, description=project.description or ""
    )
    return openapi_yaml(document)


def stage_files(spec: StageSpec, data: dict[str, Any], project: ProjectSnapshot) -> dict[str, str]:
    """The files of one stage with an output, data file included."""
    files: dict[str, str] = {}
    data_file = DATA_FILES.get(spec.name)
    if data_file is None:
        return files
    folder = spec.folder
    model = stored(spec.name, data)
    payload = model.model_dump(mode="json") if model is not None else data
    files[data_file] = dump_yaml(payload) if data_file.endswith(".yaml") else dump_json(payload)
    if isinstance(model, DataModel):
        files[f"{folder}/data-model.md"] = data_model_markdown(model)
    elif isinstance(model, DatabaseSchema):
        files.update(_database_files(model))
    elif isinstance(model, ApiDesign):
        data_model = _data_model_of(project)
        files[OPENAPI_FILE] = _api_files(model, data_model, project)
    elif model is not None:
        files[f"{folder}/{spec.name}.md"] = _markdown(spec, payload)
    return files


def snapshot_files(project: ProjectSnapshot, number: int) -> dict[str, str]:
    """The files of stage ``number`` as the package would hold them now."""
    if number == len(STAGES):  # export: the report, computed fresh
        report = validate_package(contents_of(project))
        return {VALIDATION_FILE: dump_json(report.to_json())}
    snap = next((s for s in project.stages if s.number == number), None)
    spec = next((s for s in STAGES if s.number == number), None)
    if snap is None or spec is None or not snap.data:
        return {}
    return stage_files(spec, snap.data, project)


def _data_model_of(project: ProjectSnapshot) -> DataModel | None:
    for snap in project.stages:
        if snap.name == "dataModel":
            found = stored("dataModel", snap.data)
            return found if isinstance(found, DataModel) else None
    return None


def contents_of(project: ProjectSnapshot) -> PackageContents:
    """What cross-reference validation looks at."""
    by_name = {snap.name: snap for snap in project.stages}

    def model(name: str) -> Any:
        snap = by_name.get(name)
        return stored(name, snap.data) if snap else None

    database = model("database")
    sections = model("sections")
    return PackageContents(
        data_model=model("dataModel"),
        sql=_database_files(database) if isinstance(database, DatabaseSchema) else {},
        api=model("api"),
        sections=(
            [s.model_dump(mode="json") for s in sections.sections]
            if isinstance(sections, outputs.SectionsPlan)
            else None
        ),
        missing_stages=[
            snap.label
            for snap in project.stages
            if snap.name in DATA_FILES and stored(snap.name, snap.data) is None
        ],
    )


def _index(project: ProjectSnapshot, stage_files_: dict[str, list[str]], report: Any) -> str:
    lines = [f"# {escape_inline(project.name)}", ""]
    if project.description:
        lines += [escape_inline(project.description), ""]
    lines += [
        "A Software Design Package made with Atelier: one folder per stage of the design "
        "pipeline; `manifest.json` lists every file with its SHA-256 checksum.",
        "",
        "| # | Stage | Status | Version | Files |",
        "|---|-------|--------|---------|-------|",
    ]
    for snap in project.stages:
        files = ", ".join(f"[{p.split('/')[-1]}]({p})" for p in stage_files_.get(snap.name, []))
        status = snap.status + (" (needs review)" if snap.needs_review else "")
        version = f"v{snap.version}" if snap.version else "—"
        lines.append(
            f"| {snap.number} | {escape_inline(snap.label)} | {status} | {version} | "
            f"{files or '—'} |"
        )
    counts = report.to_json()
    lines += [
        "",
        "## Validation",
        "",
        f"Cross-reference validation: **{counts['status']}** "
        f"({_count(report, 'error')} errors, {_count(report, 'warning')} warnings); "
        f"details in [{VALIDATION_FILE}]({VALIDATION_FILE}).",
        "",
    ]
    return "\n".join(lines)


def _data_file(name: str) -> str | None:
    # The export stage's output is the validation report, always written fresh.
    return VALIDATION_FILE if name == "export" else DATA_FILES.get(name)


def _count(report: ValidationReport, level: str) -> int:
    return sum(1 for m in report.messages if m.level == level)


def build_package(project: ProjectSnapshot) -> Package:
    """Render every file, validate, and write the index and the manifest."""
    texts: dict[str, str] = {}
    per_stage: dict[str, list[str]] = {}
    for snap in project.stages:
        spec = next((s for s in STAGES if s.name == snap.name), None)
        if spec is None or not snap.data:
            continue
        rendered = stage_files(spec, snap.data, project)
        texts.update(rendered)
        per_stage[snap.name] = sorted(rendered)
    report = validate_package(contents_of(project))
    texts[VALIDATION_FILE] = dump_json(report.to_json())
    per_stage["export"] = [VALIDATION_FILE]
    texts[INDEX] = _index(project, per_stage, report)
    files = {path: text.encode() for path, text in sorted(texts.items())}
    manifest = {
        "format": FORMAT,
        "project": {
            "name": project.name,
            "description": project.description,
            "template": project.template,
        },
        "stages": [
            {
                "number": snap.number,
                "name": snap.name,
                "label": snap.label,
                "status": snap.status,
                "needs_review": snap.needs_review,
                "user_input": snap.user_input,
                "version": snap.version,
                "generated_by": snap.generated_by,
                "data_file": _data_file(snap.name) if snap.data else None,
                "files": per_stage.get(snap.name, []),
            }
            for snap in project.stages
        ],
        "validation": {"status": report.status, "file": VALIDATION_FILE},
        "files": {path: sha256(content) for path, content in files.items()},
    }
    manifest_bytes = dump_json(manifest).encode()
    files[MANIFEST] = manifest_bytes
    return Package(
        files=files,
        manifest=manifest,
        report=report,
        manifest_sha256=sha256(manifest_bytes),
        stage_files=per_stage,
    )
