"""Software Design Package exports (zip or folder, kept in storage) and imports.

An export renders the package (``atelier.packs.sdp.package``), stores it, and records it
with its validation result. An import takes such a zip back: size-limited, every name
checked (no absolute paths, no "..", no links), the manifest's checksums verified, every
stage's data validated against its model — and only then is anything written.
"""

from __future__ import annotations

import io
import json
import lzma
import stat
import struct
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.accounts.principal import Principal
from atelier.artifacts.models import Artifact, ArtifactVersion, GeneratedBy
from atelier.artifacts.versions import json_content
from atelier.core.db import utcnow
from atelier.core.errors import InvalidInput, NotFound
from atelier.core.pagination import encode_cursor, paginate_query
from atelier.core.storage import Storage, StorageError
from atelier.exports.models import ExportPackage, PackageFormat, ValidationStatus
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
from atelier.projects import pipeline
from atelier.projects.models import Project, Stage, StageStatus

# A fixed timestamp for every zip entry: the same package gives the same zip bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
MAX_FILES = 500
_ENCRYPTED = 0x1  # general purpose flag bit 0
# What zipfile lets out of a malformed upload, besides BadZipFile: a bad CRC or header is
# BadZipFile, corrupt compressed data zlib.error / LZMAError / OSError (bz2) / EOFError
# (cut short), an unknown compression method NotImplementedError, an encrypted entry
# RuntimeError, and headers with impossible offsets or names ValueError, OverflowError or
# struct.error. Each of them is the upload's fault: a 422, not a 500.
_ZIP_FAULTS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
    OverflowError,
    struct.error,
)


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(path, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, files[path])
    return buffer.getvalue()


def _key(project_id: uuid.UUID, export_id: uuid.UUID) -> str:
    return f"exports/{project_id}/{export_id}"


# ------------------------------------------------------------------------------- export
async def create_export(
    session: AsyncSession,
    *,
    project: Project,
    user: Principal,
    format: PackageFormat,
    storage: Storage,
) -> ExportPackage:
    """Render, validate and store the project's package, and commit its row."""
    package = build_package(await sdp.snapshot(session, project))
    export_id = uuid.uuid4()
    base = _key(project.id, export_id)
    if format == PackageFormat.ZIP:
        path = f"{base}.zip"
        size = storage.put(path, zip_bytes(package.files))
    else:
        path = base
        size = sum(storage.put(f"{base}/{name}", data) for name, data in package.files.items())
    report = package.report
    row = ExportPackage(
        id=export_id,
        project_id=project.id,
        user_id=user.id,
        format=format,
        validation_status=ValidationStatus(report.status),
        validation_messages=[m.to_json() for m in report.messages],
        file_path=path,
        file_size_bytes=size,
        file_count=len(package.files),
        manifest_sha256=package.manifest_sha256,
    )
    session.add(row)
    export_stage = await session.scalar(
        select(Stage).where(Stage.project_id == project.id, Stage.stage_name == "export")
    )
    if export_stage is not None:
        export_stage.validated_at = utcnow()
    try:
        await session.commit()
    except BaseException:
        # The files were written first; without their row nobody could reach them.
        storage.delete(path)
        raise
    return row


async def delete_export(session: AsyncSession, *, export: ExportPackage, storage: Storage) -> None:
    """The export's row, then its files (after the commit: a failed delete of the row must
    not lose the files it points to)."""
    path = export.file_path
    await session.delete(export)
    await session.commit()
    storage.delete(path)


async def list_exports(
    session: AsyncSession, *, project: Project, cursor: str | None, limit: int
) -> tuple[list[ExportPackage], str | None]:
    query = paginate_query(
        select(ExportPackage).where(ExportPackage.project_id == project.id),
        created_col=ExportPackage.exported_at,
        id_col=ExportPackage.id,
        cursor=cursor,
        limit=limit,
    )
    rows = list((await session.scalars(query)).all())
    if len(rows) <= limit:
        return rows, None
    # Not next_cursor(): an export has no created_at, its list is ordered by exported_at.
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(last.exported_at, last.id)


def package_zip(export: ExportPackage, storage: Storage) -> bytes:
    """The export as a zip: the stored zip, or a folder export zipped on the way out."""
    try:
        if export.format == PackageFormat.ZIP:
            return storage.get(export.file_path)
        prefix = export.file_path + "/"
        files = {key[len(prefix) :]: storage.get(key) for key in storage.list(export.file_path)}
    except StorageError:
        raise NotFound(
            "the export's files are no longer in storage", code="export_files_missing"
        ) from None
    if not files:
        raise NotFound("the export's files are no longer in storage", code="export_files_missing")
    return zip_bytes(files)


# ------------------------------------------------------------------------------- import
def _refuse(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="invalid_package")


def _safe_name(name: str) -> bool:
    parts = name.split("/")
    return bool(name) and not (
        name.startswith("/")
        or "\\" in name
        or ":" in parts[0]
        or any(part in ("", ".", "..") for part in parts)
    )


def read_zip(data: bytes, *, max_unpacked: int) -> dict[str, bytes]:
    """The files of an uploaded zip, refusing anything unsafe before extracting a byte."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_FAULTS:
        raise _refuse("the upload is not a zip file") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_FILES:
            raise _refuse(f"the package holds {len(infos)} files; at most {MAX_FILES}")
        declared = 0
        for info in infos:
            if not _safe_name(info.filename):
                raise _refuse(f"unsafe file name in the package: {info.filename!r}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise _refuse(f"links are not allowed in a package: {info.filename!r}")
            declared += info.file_size
        if declared > max_unpacked:
            raise _refuse(f"the package unpacks to {declared} bytes; at most {max_unpacked}")
        files: dict[str, bytes] = {}
        total = 0
        for info in infos:
            content = _read_entry(archive, info)
            total += len(content)
            if len(content) > info.file_size or total > max_unpacked:
                raise _refuse(f"{info.filename!r} is larger than the zip declares")
            if info.filename in files:
                raise _refuse(f"{info.filename!r} appears twice in the package")
            files[info.filename] = content
    return files


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One entry's bytes; a fault in it (the CRC is checked at its end) names the file."""
    # Checked before zipfile does: its error message is a ZipInfo's repr.
    if info.flag_bits & _ENCRYPTED:
        raise _refuse(f"{info.filename}: encrypted; an exported package never is")
    try:
        with archive.open(info) as handle:
            # Read no more than declared (+1 to notice a lie): sizes in a zip's directory
            # are claims, not limits.
            return handle.read(info.file_size + 1)
    except _ZIP_FAULTS as error:
        raise _refuse(f"{info.filename}: cannot be unpacked ({_reason(error)})") from None


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:199] + "…"


@dataclass(slots=True)
class ImportedStage:
    number: int
    status: StageStatus
    needs_review: bool
    user_input: str | None
    version: int | None
    generated_by: GeneratedBy | None
    content: str | None


def verify_package(files: dict[str, bytes]) -> tuple[dict[str, Any], list[ImportedStage]]:
    """The manifest and every stage's data, checked; InvalidInput names what is wrong."""
    raw = files.get(MANIFEST)
    if raw is None:
        raise _refuse("the package has no manifest.json at its root")
    try:
        manifest = parse_data_file(MANIFEST, raw.decode())
    except (UnreadableDataFile, UnicodeDecodeError) as error:
        raise _refuse(f"{MANIFEST}: cannot be read ({_reason(error)})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(f"manifest.json is not an Atelier package (format {FORMAT!r} expected)")
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise _refuse("manifest.json lists no files")
    for path, digest in listed.items():
        if path not in files:
            raise _refuse(f"{path}: listed in the manifest but missing from the package")
        if sha256(files[path]) != digest:
            raise _refuse(f"{path}: checksum does not match the manifest")
    unlisted = sorted(set(files) - set(listed) - {MANIFEST})
    if unlisted:
        raise _refuse(f"{unlisted[0]}: in the package but not in the manifest")
    return manifest, _stages_of(manifest, files)


def _stages_of(manifest: dict[str, Any], files: dict[str, bytes]) -> list[ImportedStage]:
    entries = manifest.get("stages")
    if not isinstance(entries, list) or len(entries) != len(STAGES):
        raise _refuse(f"manifest.json must describe the {len(STAGES)} stages")
    stages = []
    for spec, entry in zip(STAGES, entries, strict=True):
        if not isinstance(entry, dict) or entry.get("name") != spec.name:
            raise _refuse(f"manifest.json: stage {spec.number} must be {spec.name!r}")
        try:
            status = StageStatus(str(entry.get("status")))
            generated_by = GeneratedBy(entry["generated_by"]) if entry.get("generated_by") else None
        except ValueError:
            raise _refuse(f"manifest.json: stage {spec.number} has an unknown status") from None
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
        raise _refuse(f"manifest.json: stage {name!r} names a data file that is missing")
    try:
        data = parse_data_file(data_file, files[data_file].decode())
    except (UnreadableDataFile, UnicodeDecodeError) as error:
        raise _refuse(f"{data_file}: cannot be read ({_reason(error)})") from None
    model = STORED_MODELS.get(name)
    if model is None:  # the export stage: its report, kept as it is
        if data_file != VALIDATION_FILE or not isinstance(data, dict):
            raise _refuse(f"{data_file}: not a validation report")
        return json_content(data)
    try:
        return model.model_validate(data).model_dump_json()
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise _refuse(f"{data_file}: {where}: {first['msg']}") from None


async def import_package(
    session: AsyncSession, *, user: Principal, data: bytes, max_unpacked: int
) -> Project:
    from atelier.projects.service import create_project

    files = read_zip(data, max_unpacked=max_unpacked)
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
