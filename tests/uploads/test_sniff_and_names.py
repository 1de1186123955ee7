"""Types from bytes, and safe stored names from whatever a client sends."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from atelier.uploads import sniff
from atelier.uploads.names import MAX_NAME_BYTES, safe_filename
from tests.uploads import files


def write(tmp_path: Path, data: bytes, name: str = "f") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(out, format=fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "name", "expected"),
    [
        (lambda: files.text_pdf(["hello"]), "x.bin", sniff.PDF),
        (lambda: files.docx_bytes(["a paragraph"], [["a", "b"]]), "x.zip", sniff.DOCX),
        (lambda: files.xlsx_bytes({"S": [["a", 1]]}), "x.docx", sniff.XLSX),
        (lambda: image_bytes("PNG"), "x.txt", sniff.PNG),
        (lambda: image_bytes("JPEG"), "x.png", sniff.JPEG),
        (lambda: image_bytes("WEBP"), "x.jpg", sniff.WEBP),
        (lambda: "prix: 12 €, déjà vu\n".encode("cp1252"), "notes.txt", sniff.TEXT),
        (lambda: b"a,b\n1,2\n", "table.csv", sniff.CSV),
        (lambda: b"# Title\n\ntext\n", "readme.md", sniff.MARKDOWN),
        (lambda: "\ufeffname\tvalue\n".encode("utf-16"), "export.txt", sniff.TEXT),
        (lambda: b"<html><script>x</script></html>", "page.html", sniff.TEXT),
    ],
)
def test_types_come_from_the_bytes(tmp_path: Path, make, name: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    assert sniff.sniff(write(tmp_path, make()), name) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00" + bytes(100),  # a Windows program
        b"\x7fELF\x02\x01\x01" + bytes(100),  # a Linux one
        bytes(range(256)) * 4,  # binary noise
    ],
)
def test_unknown_binary_is_none(tmp_path: Path, data: bytes) -> None:
    assert sniff.sniff(write(tmp_path, data), "innocent.txt") is None


def test_a_zip_that_is_not_an_office_file_is_none(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word.txt", "not a document")
    assert sniff.sniff(write(tmp_path, out.getvalue()), "fake.docx") is None


def test_decode_text_reads_legacy_charsets() -> None:
    text, charset = sniff.decode_text("Café crème, déjà réglé".encode("cp1252"))
    assert text == "Café crème, déjà réglé" and charset != "utf-8"
    assert sniff.decode_text("ok ✓".encode()) == ("ok ✓", "utf-8")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\plan.docx", "plan.docx"),
        ("a\x00b\x1fc.txt", "a_b_c.txt"),
        ("  .hidden  ", "hidden"),
        ("...", "file"),
        ("", "file"),
        ("con.txt", "con_.txt"),
        ("e\u0301te\u0301.txt", "été.txt"),  # decomposed accents become one character each
        ('what?<is>"this".md', "what__is__this_.md"),
    ],
)
def test_safe_filename(raw: str, expected: str) -> None:
    assert safe_filename(raw) == expected


def test_long_names_are_cut_on_a_character_and_keep_the_extension() -> None:
    name = safe_filename("ü" * 500 + ".xlsx")
    assert name.endswith(".xlsx") and len(name.encode()) <= MAX_NAME_BYTES
    name.encode().decode("utf-8")  # still valid UTF-8
