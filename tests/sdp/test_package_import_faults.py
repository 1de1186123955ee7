"""Imports of damaged packages (issue 13): a fault while unpacking the zip or while parsing
a file in it is a 422 ``invalid_package`` that names the file, never a 500 (nor a crash),
and nothing is created.

Each damaged zip is a valid export corrupted byte-wise, as a fuzzer or a bad disk would.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable

import pytest
import yaml

from tests.factories import Account, Api, error_code
from tests.sdp.helpers import API, run_through, sdp_project, write_stage
from tests.sdp.test_packages_api import export, import_zip

pytestmark = pytest.mark.anyio

ENTRY = "01-product/product.json"
STACK = "05-stack/stack.yaml"
REPORT = "09-export/validation.json"
# Offsets in a zip's local file header and central directory record (APPNOTE 4.3.7, 4.3.12).
LOCAL_FLAGS, LOCAL_METHOD, LOCAL_FIXED = 6, 8, 30
CENTRAL_FLAGS, CENTRAL_METHOD, CENTRAL_FIXED = 8, 10, 46


async def exported_zip(api: Api, who: Account) -> bytes:
    """A valid package of stages 1 to 5 (so with a YAML data file), as the server zips it."""
    project = await sdp_project(api, who)
    await run_through(api, who, project, 5)
    r = await api.client.get((await export(api, who, project))["download_url"], headers=who.headers)
    assert r.status_code == 200
    return r.content


def unzipped(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezipped(files: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_file(data: bytes, path: str, content: bytes) -> bytes:
    """The package with ``path`` replaced and the manifest's checksum of it updated, so the
    file itself is what the import has to judge."""
    files = unzipped(data)
    manifest = json.loads(files["manifest.json"])
    manifest["files"][path] = hashlib.sha256(content).hexdigest()
    files.update({path: content, "manifest.json": json.dumps(manifest).encode()})
    return rezipped(files)


def headers_of(data: bytes, name: str) -> tuple[int, int]:
    """Where ``name``'s local header and its central directory record start."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        local = archive.getinfo(name).header_offset
        central: int = archive.start_dir
    # Records follow one another: fixed part, then name, extra field and comment.
    while True:
        lengths = struct.unpack_from("<HHH", data, central + 28)
        if lengths[0] == len(name) and data.startswith(name.encode(), central + CENTRAL_FIXED):
            return local, central
        central += CENTRAL_FIXED + sum(lengths)


def entry_data_offset(data: bytes, name: str) -> int:
    local, _ = headers_of(data, name)
    name_length, extra_length = struct.unpack_from("<HH", data, local + 26)
    return local + LOCAL_FIXED + int(name_length) + int(extra_length)


def bad_crc(data: bytes) -> bytes:
    """A stored (uncompressed) entry with one byte flipped: only its CRC-32 can tell."""
    stored = bytearray(rezipped(unzipped(data), zipfile.ZIP_STORED))
    stored[entry_data_offset(bytes(stored), ENTRY)] ^= 0xFF
    return bytes(stored)


def corrupt_deflate(data: bytes) -> bytes:
    """The entry's deflate stream starting with a block of the reserved type 3."""
    out = bytearray(data)
    out[entry_data_offset(data, ENTRY)] = 0b111  # final block, type 0b11
    return bytes(out)


def unknown_method(data: bytes) -> bytes:
    out = bytearray(data)
    local, central = headers_of(data, ENTRY)
    struct.pack_into("<H", out, local + LOCAL_METHOD, 99)
    struct.pack_into("<H", out, central + CENTRAL_METHOD, 99)
    return bytes(out)


def encrypted(data: bytes) -> bytes:
    out = bytearray(data)
    local, central = headers_of(data, ENTRY)
    for offset in (local + LOCAL_FLAGS, central + CENTRAL_FLAGS):
        (flags,) = struct.unpack_from("<H", out, offset)
        struct.pack_into("<H", out, offset, flags | 0x1)
    return bytes(out)


def deep_manifest(data: bytes) -> bytes:
    depth = 100_000
    return rezipped({**unzipped(data), "manifest.json": b"[" * depth + b"]" * depth})


def yaml_alias(data: bytes) -> bytes:
    """stack.yaml with one choice written once and referred to again by an alias: valid
    data, but aliases are how a few bytes of YAML expand into gigabytes."""
    stack = yaml.safe_load(unzipped(data)[STACK])
    choice = stack["choices"][0]
    text = yaml.safe_dump({**stack, "choices": [choice, choice]})
    assert "*id001" in text  # PyYAML writes the shared object as an anchor and an alias
    return with_file(data, STACK, text.encode())


CASES: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "bad CRC-32 of a stored entry": (bad_crc, ENTRY),
    "corrupt deflate data": (corrupt_deflate, ENTRY),
    "unknown compression method 99": (unknown_method, ENTRY),
    "encrypted entry": (encrypted, ENTRY),
    "manifest nested 100,000 levels deep": (deep_manifest, "manifest.json"),
    "YAML alias in a data file": (yaml_alias, STACK),
}


async def project_count(api: Api, who: Account) -> int:
    r = await api.client.get(f"{API}/projects", headers=who.headers)
    assert r.status_code == 200
    return len(r.json()["items"])


@pytest.mark.parametrize("case", CASES)
async def test_a_damaged_package_is_refused_naming_the_file(api: Api, case: str) -> None:
    damage, named = CASES[case]
    me = await api.signup()
    damaged = damage(await exported_zip(api, me))
    before = await project_count(api, me)
    r = await import_zip(api, me, damaged)
    assert r.status_code == 422, r.text
    assert error_code(r) == "invalid_package"
    assert named in r.json()["detail"]
    assert await project_count(api, me) == before  # nothing was written


async def test_values_the_database_cannot_store_are_refused_naming_the_file(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    await run_through(api, me, project, 8)
    await write_stage(api, me, project, 9)  # so the package holds validation.json
    r = await api.client.get((await export(api, me, project))["download_url"], headers=me.headers)
    good = r.content
    files = unzipped(good)
    manifest = json.loads(files["manifest.json"])
    product = json.loads(files[ENTRY])
    report = json.loads(files[REPORT])

    def report_with(value: object) -> bytes:
        # The report is kept as it is (no model to check it), so anything in it is stored.
        return with_file(good, REPORT, json.dumps({**report, "note": value}).encode())

    cases = {
        # PostgreSQL's text and jsonb cannot hold NUL; SQLite stored it.
        "NUL in the project's name": (
            rezipped({**files, "manifest.json": json.dumps(
                {**manifest, "project": {**manifest["project"], "name": "Task\x00lane"}}
            ).encode()}),
            "manifest.json",
        ),
        "NUL in a stage's data": (
            with_file(good, ENTRY, json.dumps({**product, "name": "Task\x00lane"}).encode()),
            ENTRY,
        ),
        "integer past 64 bits": (report_with(10**30), REPORT),
        "lone surrogate": (report_with("\ud800"), REPORT),
        "NaN": (report_with(float("nan")), REPORT),
    }  # fmt: skip
    before = await project_count(api, me)
    for label, (damaged, named) in cases.items():
        r = await import_zip(api, me, damaged)
        assert r.status_code == 422, (label, r.text)
        assert error_code(r) == "invalid_package", label
        assert named in r.json()["detail"], (label, r.json()["detail"])
    assert await project_count(api, me) == before


def test_data_files_nested_past_the_limit_are_refused_before_parsing() -> None:
    from atelier.packs.sdp.package_data import MAX_NESTING, UnreadableDataFile, parse_data_file

    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    assert parse_data_file("a.json", nested(MAX_NESTING)) is not None
    assert parse_data_file("a.yaml", nested(MAX_NESTING)) is not None
    # Brackets inside a string (escaped quotes included) are text, not nesting.
    assert parse_data_file("a.json", json.dumps(['\\"' + "[" * 1000])) == ['\\"' + "[" * 1000]
    for path in ("a.json", "a.yaml"):
        with pytest.raises(UnreadableDataFile, match="nested deeper than"):
            parse_data_file(path, nested(MAX_NESTING + 1))
    with pytest.raises(UnreadableDataFile, match="nested deeper than"):
        parse_data_file("a.yaml", "- " * (MAX_NESTING + 1) + "x")  # block style nests too
    with pytest.raises(UnreadableDataFile, match="when: a date is not a JSON value"):
        parse_data_file("a.yaml", "when: 2026-01-01")  # YAML's own types


def test_yaml_nested_100000_levels_deep_is_refused_without_a_crash() -> None:
    # With libyaml 0.2.5 loading this crashed the interpreter (SIGSEGV); with 0.2.6 it
    # raised a ScannerError. A process of its own keeps a crash from ending the test run.
    script = (
        "from atelier.packs.sdp.package_data import parse_data_file\n"
        "try:\n"
        "    parse_data_file('05-stack/stack.yaml', '[' * 100000 + ']' * 100000)\n"
        "except ValueError as error:\n"
        "    print('refused:', error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    # Refused by the depth check, or by libyaml's own limit when it scans that far ahead.
    assert done.stdout.startswith("refused:"), done.stdout
