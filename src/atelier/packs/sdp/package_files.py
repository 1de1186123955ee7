"""The software design pack's packages as the engine's exports and imports see them
(``PackSpec.packages``, ``atelier.exports.packages.PackageHooks``).

An export renders the package (``package.build_package``) and marks the export stage
validated; the engine stores it with its validation result. An import takes such a zip
back, already read safely by the engine: the manifest's checksums verified, every
stage's data validated against its model — and only then is anything written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.artifacts.models import Artifact, ArtifactVersion, GeneratedBy
from atelier.artifacts.versions import json_content
from atelier.core.db import utcnow
from atelier.exports.models import ValidationStatus
from atelier.exports.packages import BuiltPackage, invalid_package, short_reason
from atelier.packs.sdp import service as sdp
from atelier.packs.sdp.package import (
    FORMAT,
    MANIFEST,
    STORED_MODELS,
    VALIDATION_FILE,
    build_package,
    sha256,
)
from atelier.packs.sdp.package_data import UnreadableDataFile, parse_data_file
from atelier.packs.sdp.stages import STAGES
from atelier.projects.models import Project, Stage, StageStatus
from atelier.stages import pipeline
from atelier.stages.new_project import create_project


# ------------------------------------------------------------------------------- export
async def export_package(session: AsyncSession, project: Project) -> BuiltPackage:
    """The project's package for an export; the export stage is marked validated (in the
    session: committed with the export's row)."""
    package = build_package(await sdp.snapshot(session, project))
    export_stage = await session.scalar(
        select(Stage).where(Stage.project_id == project.id, Stage.stage_name == "export")
    )
    if export_stage is not None:
        export_stage.validated_at = utcnow()
    report = package.report
    return BuiltPackage(
        files=package.files,
        manifest_sha256=package.manifest_sha256,
        validation_status=ValidationStatus(report.status),
        validation_messages=[m.to_json() for m in report.messages],
    )


# ------------------------------------------------------------------------------- import
@dataclass(slots=True)
class ImportedStage:
    number: int
    status: StageStatus
    needs_review: bool
    user_input: str | None
    version: int | None
    generated_by: GeneratedBy | None
    content: str | None


def accepts(files: dict[str, bytes]) -> bool:
    """Whether the files look like a software design package (a manifest of its format);
    ``verify_package`` says what is wrong with one."""
    try:
        manifest = parse_data_file(MANIFEST, files[MANIFEST].decode())
    except (KeyError, UnreadableDataFile, UnicodeDecodeError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == FORMAT


def verify_package(files: dict[str, bytes]) -> tuple[dict[str, Any], list[ImportedStage]]:
    """The manifest and every stage's data, checked; InvalidInput names what is wrong."""
    raw = files.get(MANIFEST)
    if raw is None:
        raise invalid_package("the package has no manifest.json at its root")
    try:
        manifest = parse_data_file(MANIFEST, raw.decode())
    except (UnreadableDataFile, UnicodeDecodeError) as error:
        raise invalid_package(f"{MANIFEST}: cannot be read ({short_reason(error)})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise invalid_package(
            f"manifest.json is not an Atelier package (format {FORMAT!r} expected)"
        )
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise invalid_package("manifest.json lists no files")
    for path, digest in listed.items():
        if path not in files:
            raise invalid_package(f"{path}: listed in the manifest but missing from the package")
        if sha256(files[path]) != digest:
            raise invalid_package(f"{path}: checksum does not match the manifest")
    unlisted = sorted(set(files) - set(listed) - {MANIFEST})
    if unlisted:
        raise invalid_package(f"{unlisted[0]}: in the package but not in the manifest")
    return manifest, _stages_of(manifest, files)


def _stages_of(manifest: dict[str, Any], files: dict[str, bytes]) -> list[ImportedStage]:
    entries = manifest.get("stages")
    if not isinstance(entries, list) or len(entries) != len(STAGES):
        raise invalid_package(f"manifest.json must describe the {len(STAGES)} stages")
    stages = []
    for spec, entry in zip(STAGES, entries, strict=True):
        if not isinstance(entry, dict) or entry.get("name") != spec.name:
            raise invalid_package(f"manifest.json: stage {spec.number} must be {spec.name!r}")
        try:
            status = StageStatus(str(entry.get("status")))
            generated_by = GeneratedBy(entry["generated_by"]) if entry.get("generated_by") else None
        except ValueError:
            raise invalid_package(
                f"manifest.json: stage {spec.number} has an unknown status"
            ) from None
        content = _stage_content(spec.name, entry.get("data_file"), files)
        version = entry.get("version")
        stages.append(
            ImportedStage(
                number=spec.number,
                status=status,
                needs_review=bool(entry.get("needs_review")),
                user_input=entry.get("user_input")
                if isinstance(entry.get("user_input"), str)
                else None,
                version=version if isinstance(version, int) and version > 0 and content else None,
                generated_by=generated_by,
                content=content,
            )
        )
    return stages


def _stage_content(name: str, data_file: Any, files: dict[str, bytes]) -> str | None:
    if not data_file:
        return None
    if not isinstance(data_file, str) or data_file not in files:
        raise invalid_package(f"manifest.json: stage {name!r} names a data file that is missing")
    try:
        data = parse_data_file(data_file, files[data_file].decode())
    except (UnreadableDataFile, UnicodeDecodeError) as error:
        raise invalid_package(f"{data_file}: cannot be read ({short_reason(error)})") from None
    model = STORED_MODELS.get(name)
    if model is None:  # the export stage: its report, kept as it is
        if data_file != VALIDATION_FILE or not isinstance(data, dict):
            raise invalid_package(f"{data_file}: not a validation report")
        return json_content(data)
    try:
        return model.model_validate(data).model_dump_json()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise invalid_package(f"{data_file}: {where}: {first['msg']}") from None


async def import_files(
    session: AsyncSession, *, user: Principal, files: dict[str, bytes]
) -> Project:
    """A new sdp project from a package's files (read from the zip by the engine)."""
    manifest, stages = verify_package(files)
    found = manifest.get("project")
    meta: dict[str, Any] = found if isinstance(found, dict) else {}
    name = str(meta.get("name") or "Imported project")[:200]
    description = meta.get("description") if isinstance(meta.get("description"), str) else None
    template = meta.get("template")
    project = await create_project(
        session,
        user=user,
        name=name,
        description=description,
        pack="sdp",
        metadata={"template": template} if isinstance(template, str) else None,
    )
    artifacts = await sdp.stage_artifacts(session, project.id)
    rows = (await session.scalars(select(Stage).where(Stage.project_id == project.id))).all()
    by_number = {row.stage_number: row for row in rows}
    for imported in stages:
        stage = by_number[imported.number]
        stage.status = imported.status
        stage.needs_review = imported.needs_review
        stage.user_input = imported.user_input
        if imported.status == StageStatus.COMPLETE:
            stage.completed_at = utcnow()
        artifact = artifacts[STAGES[imported.number - 1].name]
        artifact.input_data = {"user_input": imported.user_input or ""}
        if imported.content is not None and imported.version is not None:
            _add_imported_version(session, artifact, imported, user)
    await session.flush()
    await pipeline.refresh_current_stage(session, project)
    return project


def _add_imported_version(
    session: AsyncSession, artifact: Artifact, imported: ImportedStage, user: Principal
) -> None:
    """The stage's active output under its original version number (the package's manifest
    names it), so that exporting the import gives the same files."""
    assert imported.content is not None and imported.version is not None
    artifact.latest_version = imported.version
    artifact.output_data = json.loads(imported.content)
    session.add(
        ArtifactVersion(
            artifact_id=artifact.id,
            version=imported.version,
            content=imported.content,
            generated_by=imported.generated_by or GeneratedBy.HUMAN,
            created_by_id=user.id,
            is_active=True,
        )
    )


class SdpPackages:
    """The software design pack's ``atelier.exports.packages.PackageHooks``."""

    async def build(self, session: AsyncSession, project: Project) -> BuiltPackage:
        return await export_package(session, project)

    def accepts(self, files: dict[str, bytes]) -> bool:
        return accepts(files)

    async def import_files(
        self, session: AsyncSession, *, user: Principal, files: dict[str, bytes]
    ) -> Project:
        return await import_files(session, user=user, files=files)


HOOKS = SdpPackages()
