"""Project packages, for any pack whose projects have them: exports (zip or folder, kept
in storage, one ``ExportPackage`` row each) and imports (a zip back as a new project).

What a package holds, and what importing one makes, is the pack's: its ``PackSpec``
names a ``PackageHooks`` object (``PackSpec.packages``, ``"module:attribute"``). The
engine stores what the hook builds, and reads an upload safely before the hook sees it:
size-limited, every name checked (no absolute paths, no "..", no links), nothing
extracted before every entry passed.
"""

from __future__ import annotations

import io
import lzma
import stat
import struct
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from atelier.core.errors import Conflict, InvalidInput, NotFound
from atelier.core.packs import packs, resolve
from atelier.core.pagination import encode_cursor, paginate_query
from atelier.core.storage import Storage, StorageError
from atelier.exports.models import ExportPackage, PackageFormat, ValidationStatus

if TYPE_CHECKING:
    from atelier.accounts.principal import Principal
    from atelier.projects.models import Project

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


# ------------------------------------------------------------------------------ the hooks
@dataclass(frozen=True, slots=True)
class BuiltPackage:
    """A package as a pack's hook builds it for an export."""

    files: dict[str, bytes]  # path in the package → content
    manifest_sha256: str  # two exports with the same digest have identical files
    validation_status: ValidationStatus = ValidationStatus.VALID
    validation_messages: list[dict[str, Any]] = field(default_factory=list)


class PackageHooks(Protocol):
    """What a pack whose projects have packages gives the engine (``PackSpec.packages``)."""

    async def build(self, session: AsyncSession, project: Project) -> BuiltPackage:
        """The project's package, for an export (committed with the export's row)."""
        ...

    def accepts(self, files: dict[str, bytes]) -> bool:
        """Whether an uploaded package's files are of this pack's format."""
        ...

    async def import_files(
        self, session: AsyncSession, *, user: Principal, files: dict[str, bytes]
    ) -> Project:
        """A new project of ``user`` from a package's files (read safely by the engine);
        InvalidInput (``invalid_package``) when they are not a valid package."""
        ...


def hooks_of(pack: str) -> PackageHooks | None:
    """The package hooks of the pack ``pack``, or None when its projects have none."""
    spec = packs.get(pack)
    reference = getattr(spec, "packages", None) if spec is not None else None
    return resolve(reference) if reference else None


def _importers() -> list[PackageHooks]:
    return [resolve(spec.packages) for spec in packs.all() if getattr(spec, "packages", None)]


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
    """Build the project's package (its pack's hook), store it, and commit its row."""
    hooks = hooks_of(project.pack)
    if hooks is None:
        raise Conflict("this project's pack makes no packages", code="no_package")
    package = await hooks.build(session, project)
    export_id = uuid.uuid4()
    base = _key(project.id, export_id)
    if format == PackageFormat.ZIP:
        path = f"{base}.zip"
        size = storage.put(path, zip_bytes(package.files))
    else:
        path = base
        size = sum(storage.put(f"{base}/{name}", data) for name, data in package.files.items())
    row = ExportPackage(
        id=export_id,
        project_id=project.id,
        user_id=user.id,
        format=format,
        validation_status=package.validation_status,
        validation_messages=package.validation_messages,
        file_path=path,
        file_size_bytes=size,
        file_count=len(package.files),
        manifest_sha256=package.manifest_sha256,
    )
    session.add(row)
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
def invalid_package(detail: str) -> InvalidInput:
    """The error of an upload that is not a valid package (422 ``invalid_package``)."""
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
        raise invalid_package("the upload is not a zip file") from None
    with archive:
        infos = [i for i in archive.infolist() if not i.is_dir()]
        if len(infos) > MAX_FILES:
            raise invalid_package(f"the package holds {len(infos)} files; at most {MAX_FILES}")
        declared = 0
        for info in infos:
            if not _safe_name(info.filename):
                raise invalid_package(f"unsafe file name in the package: {info.filename!r}")
            if stat.S_ISLNK(info.external_attr >> 16):
                raise invalid_package(f"links are not allowed in a package: {info.filename!r}")
            declared += info.file_size
        if declared > max_unpacked:
            raise invalid_package(
                f"the package unpacks to {declared} bytes; at most {max_unpacked}"
            )
        files: dict[str, bytes] = {}
        total = 0
        for info in infos:
            content = _read_entry(archive, info)
            total += len(content)
            if len(content) > info.file_size or total > max_unpacked:
                raise invalid_package(f"{info.filename!r} is larger than the zip declares")
            if info.filename in files:
                raise invalid_package(f"{info.filename!r} appears twice in the package")
            files[info.filename] = content
    return files


def _read_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One entry's bytes; a fault in it (the CRC is checked at its end) names the file."""
    # Checked before zipfile does: its error message is a ZipInfo's repr.
    if info.flag_bits & _ENCRYPTED:
        raise invalid_package(f"{info.filename}: encrypted; an exported package never is")
    try:
        with archive.open(info) as handle:
            # Read no more than declared (+1 to notice a lie): sizes in a zip's directory
            # are claims, not limits.
            return handle.read(info.file_size + 1)
    except _ZIP_FAULTS as error:
        raise invalid_package(
            f"{info.filename}: cannot be unpacked ({short_reason(error)})"
        ) from None


def short_reason(error: BaseException) -> str:
    """An exception's message on one line, at most 200 characters."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 200 else text[:199] + "…"


async def import_package(
    session: AsyncSession, *, user: Principal, data: bytes, max_unpacked: int
) -> Project:
    """A new project from an uploaded package zip, made by the pack whose format it is
    (with one such pack installed, that pack says what is wrong with any other upload)."""
    files = read_zip(data, max_unpacked=max_unpacked)
    importers = _importers()
    if not importers:
        raise invalid_package("no installed pack imports packages")
    chosen = importers[0]
    if len(importers) > 1:
        chosen = next((hooks for hooks in importers if hooks.accepts(files)), chosen)
    return await chosen.import_files(session, user=user, files=files)
