"""`atelier uploads add`: the same checks, storage and processing as the API, from a shell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import data_dir, output, run, unique_email  # noqa: F401  (a fixture)
from tests.uploads import files


def make_user(email: str) -> None:
    result = run("users", "create", "--email", email, "--name", "CLI", "--password", "x" * 20)
    assert result.exit_code == 0, output(result)


def test_add_processes_the_file_and_prints_the_record(data_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    email = unique_email()
    make_user(email)
    pdf = tmp_path / "minutes.pdf"
    pdf.write_bytes(files.text_pdf(["Board minutes, page one.", "Decisions, page two."]))
    result = run("uploads", "add", str(pdf), "--user", email)
    assert result.exit_code == 0, output(result)
    record = json.loads(result.stdout)
    assert record["status"] == "COMPLETED"
    assert record["mime_type"] == "application/pdf"
    assert record["metadata"]["pages"] == 2
    assert "processing: completed" in output(result)
    stored = data_dir / "storage" / record["path"]
    assert stored.read_bytes() == pdf.read_bytes()


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty_file"), (b"MZ\x90\x00" + bytes(64), "unsupported_type")],
)
def test_add_refuses_what_the_api_refuses(
    data_dir: Path,  # noqa: F811
    tmp_path: Path,
    content: bytes,
    message: str,
) -> None:
    email = unique_email()
    make_user(email)
    path = tmp_path / "thing.bin"
    path.write_bytes(content)
    result = run("uploads", "add", str(path), "--user", email)
    assert result.exit_code == 1
    assert message in output(result)


def test_add_names_a_missing_file(data_dir: Path, tmp_path: Path) -> None:  # noqa: F811
    result = run("uploads", "add", str(tmp_path / "nowhere.pdf"))
    assert result.exit_code == 2
    assert "no such file" in output(result)
