"""Software Design Package exports (zip, folder, history, download, validation) and imports
(round trip, hostile zips), with tenant isolation."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile
from typing import Any

import pytest

from tests.factories import Account, Api, error_code
from tests.sdp.examples import OUTPUTS
from tests.sdp.helpers import API, run_through, sdp_project, stage_url, stages, write_stage

pytestmark = pytest.mark.anyio

ZIP = {"content-type": "application/zip"}


async def export(api: Api, who: Account, project: dict[str, Any], fmt: str = "zip") -> Any:
    r = await api.client.post(
        f"{API}/projects/{project['id']}/exports", json={"format": fmt}, headers=who.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


async def download(api: Api, who: Account, exported: dict[str, Any]) -> dict[str, bytes]:
    r = await api.client.get(exported["download_url"], headers=who.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "attachment" in r.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def import_zip(api: Api, who: Account, data: bytes) -> Any:
    return await api.client.post(
        f"{API}/projects/import", content=data, headers={**who.headers, **ZIP}
    )


def zipped(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


async def full_project(api: Api, who: Account) -> dict[str, Any]:
    project = await sdp_project(api, who, description="Tasks for small teams")
    await run_through(api, who, project, 8)
    await write_stage(api, who, project, 9)
    return project


async def test_an_export_holds_every_stage_with_checksums(api: Api) -> None:
    me = await api.signup()
    project = await full_project(api, me)
    exported = await export(api, me, project)
    assert exported["validation_status"] == "valid", exported["validation_messages"]
    files = await download(api, me, exported)
    assert exported["file_count"] == len(files)
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "atelier-sdp/1"
    assert [s["version"] for s in manifest["stages"]] == [1] * 9
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    for path, digest in manifest["files"].items():
        assert hashlib.sha256(files[path]).hexdigest() == digest
    assert hashlib.sha256(files["manifest.json"]).hexdigest() == exported["manifest_sha256"]
    assert {
        "README.md",
        "01-product/product.md",
        "02-data-model/data-model.md",
        "02-data-model/data-model.json",
        "03-database/schema.sqlite.sql",
        "03-database/schema.postgresql.sql",
        "04-api/openapi.yaml",
        "04-api/endpoints.json",
        "05-stack/stack.md",
        "07-sections/sections.json",
        "08-infrastructure/infrastructure.yaml",
        "09-export/validation.json",
    } <= set(files)
    readme = files["README.md"].decode()
    assert "Tasklane" in readme and "Data Model" in readme and "valid" in readme
    assert OUTPUTS["product"]["tagline"] in files["01-product/product.md"].decode()
    assert json.loads(files["02-data-model/data-model.json"]) == OUTPUTS["dataModel"]


async def test_validation_errors_name_the_file_and_item(api: Api) -> None:
    me = await api.signup()
    project = await full_project(api, me)
    broken = json.loads(json.dumps(OUTPUTS["sections"]))
    broken["sections"][0]["endpoints"] = ["GET /nowhere"]
    await api.client.post(stage_url(project, 7, "/outputs/1/activate"), headers=me.headers)
    r = await api.client.patch(stage_url(project, 7), json={"data": broken}, headers=me.headers)
    assert r.status_code == 200
    exported = await export(api, me, project)
    assert exported["validation_status"] == "errors"
    (message,) = [m for m in exported["validation_messages"] if m["level"] == "error"]
    assert message["rule"] == "section_endpoint"
    assert message["file"] == "07-sections/sections.json"
    assert "GET /nowhere" in message["message"]


async def test_folder_exports_and_history(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    await run_through(api, me, project, 2)
    first = await export(api, me, project, "zip")
    second = await export(api, me, project, "folder")
    assert second["format"] == "folder" and second["validation_status"] == "warnings"
    # Same stages, same files: the two manifests are identical.
    assert first["manifest_sha256"] == second["manifest_sha256"]
    assert await download(api, me, first) == await download(api, me, second)
    r = await api.client.get(f"{API}/projects/{project['id']}/exports", headers=me.headers)
    assert [e["id"] for e in r.json()["items"]] == [second["id"], first["id"]]
    r = await api.client.get(f"{API}/exports/{first['id']}", headers=me.headers)
    assert r.json()["file_size_bytes"] > 0


async def test_export_then_import_then_export_gives_identical_files(api: Api) -> None:
    me = await api.signup()
    project = await full_project(api, me)
    # A second version of stage 1, to check version numbers survive the trip.
    await api.client.patch(
        stage_url(project, 1), json={"data": {**OUTPUTS["product"], "name": "Tasklane 2"}},
        headers=me.headers,
    )  # fmt: skip
    original = await download(api, me, await export(api, me, project))
    r = await import_zip(api, me, zipped(original))
    assert r.status_code == 201, r.text
    imported = r.json()
    assert imported["pack"] == "sdp" and imported["id"] != project["id"]
    assert imported["current_stage"] == 1  # stage 1 is in review again
    again = await download(api, me, await export(api, me, imported))
    assert again == original
    items = await stages(api, me, imported)
    assert items[0]["active_version"] == 2 and items[0]["status"] == "review"
    assert [s["needs_review"] for s in items[1:3]] == [True, True]


async def test_import_as_multipart_upload(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    await run_through(api, me, project, 1)
    data = zipped(await download(api, me, await export(api, me, project)))
    r = await api.client.post(
        f"{API}/projects/import",
        files={"file": ("package.zip", data, "application/zip")},
        headers=me.headers,
    )
    assert r.status_code == 201, r.text


def _package_files(files: dict[str, bytes], **changes: bytes | None) -> dict[str, bytes]:
    out = dict(files)
    for name, data in changes.items():
        if data is None:
            out.pop(name, None)
        else:
            out[name] = data
    return out


async def test_hostile_or_broken_zips_are_refused_cleanly(api: Api) -> None:
    me = await api.signup()
    project = await sdp_project(api, me)
    await run_through(api, me, project, 2)
    good = await download(api, me, await export(api, me, project))
    manifest = json.loads(good["manifest.json"])

    def with_manifest(**changes: Any) -> bytes:
        return json.dumps({**manifest, **changes}).encode()

    cases: dict[str, bytes] = {
        "not a zip": b"PK\x03\x04 this is not really a zip",
        "parent path": zipped({**good, "../escape.txt": b"x"}),
        "absolute path": zipped({**good, "/etc/passwd": b"x"}),
        "backslash path": zipped({**good, "..\\evil.txt": b"x"}),
        "bad checksum": zipped(
            _package_files(
                good, **{"01-product/product.json": good["01-product/product.json"] + b" "}
            )
        ),
        "missing file": zipped(_package_files(good, **{"01-product/product.md": None})),
        "unlisted file": zipped({**good, "extra.txt": b"hello"}),
        "no manifest": zipped(_package_files(good, **{"manifest.json": None})),
        "wrong format": zipped({**good, "manifest.json": with_manifest(format="other/1")}),
        "stage data invalid": zipped(
            _package_files(
                good,
                **{"01-product/product.json": b'{"name": 1}'},
                **{"manifest.json": _rehash(manifest, "01-product/product.json", b'{"name": 1}')},
            )
        ),
    }
    before = (await api.client.get(f"{API}/projects", headers=me.headers)).json()["items"]
    for label, data in cases.items():
        r = await import_zip(api, me, data)
        assert r.status_code == 422, (label, r.text)
        assert error_code(r) == "invalid_package", label
        assert isinstance(r.json()["detail"], str) and r.json()["detail"], label
    after = (await api.client.get(f"{API}/projects", headers=me.headers)).json()["items"]
    assert len(after) == len(before)  # nothing was created


def _rehash(manifest: dict[str, Any], path: str, data: bytes) -> bytes:
    files = {**manifest["files"], path: hashlib.sha256(data).hexdigest()}
    return json.dumps({**manifest, "files": files}).encode()


async def test_links_and_zip_bombs_are_refused(api: Api, settings: Any) -> None:
    me = await api.signup()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    r = await import_zip(api, me, buffer.getvalue())
    assert r.status_code == 422 and "link" in r.json()["detail"]

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("huge.txt", b"0" * (settings.max_import_unpacked_bytes + 1))
    assert len(buffer.getvalue()) < settings.max_body_bytes  # small on the wire
    r = await import_zip(api, me, buffer.getvalue())
    assert r.status_code == 422 and "unpacks to" in r.json()["detail"]


async def test_an_oversized_upload_is_413(api: Api, settings: Any) -> None:
    me = await api.signup()
    r = await import_zip(api, me, b"0" * (settings.max_import_bytes + 1))
    assert r.status_code == 413 and error_code(r) == "payload_too_large"


async def test_an_empty_upload_names_the_body(api: Api) -> None:
    me = await api.signup()
    r = await import_zip(api, me, b"")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body"


async def test_only_sdp_projects_export_packages(api: Api) -> None:
    me = await api.signup()
    project = await api.project(me)
    r = await api.client.post(f"{API}/projects/{project['id']}/exports", headers=me.headers)
    assert r.status_code == 409 and error_code(r) == "no_stages"


async def test_other_users_cannot_reach_exports(api: Api) -> None:
    owner, other = await api.signup(), await api.signup()
    project = await sdp_project(api, owner)
    await run_through(api, owner, project, 1)
    exported = await export(api, owner, project)
    h = other.headers
    r = await api.client.post(f"{API}/projects/{project['id']}/exports", headers=h)
    assert r.status_code == 404
    r = await api.client.get(f"{API}/projects/{project['id']}/exports", headers=h)
    assert r.status_code == 404
    for url in (f"{API}/exports/{exported['id']}", exported["download_url"]):
        r = await api.client.get(url, headers=h)
        assert r.status_code == 404 and error_code(r) == "export_not_found", url
    r = await api.client.get(f"{API}/exports/{exported['id']}", headers=owner.headers)
    assert r.status_code == 200


async def test_deleting_an_export_removes_its_row_and_files(api: Api, app: Any) -> None:
    owner, other = await api.signup(), await api.signup()
    project = await sdp_project(api, owner)
    await run_through(api, owner, project, 1)
    kept, gone = await export(api, owner, project), await export(api, owner, project, "folder")
    storage = app.state.storage
    keys = storage.list(f"exports/{project['id']}/{gone['id']}")
    assert keys
    # Another user can neither delete nor learn that it exists.
    r = await api.client.delete(f"{API}/exports/{gone['id']}", headers=other.headers)
    assert r.status_code == 404 and error_code(r) == "export_not_found"
    r = await api.client.delete(f"{API}/exports/{gone['id']}", headers=owner.headers)
    assert r.status_code == 204
    assert storage.list(f"exports/{project['id']}/{gone['id']}") == []
    for url in (f"{API}/exports/{gone['id']}", gone["download_url"]):
        r = await api.client.get(url, headers=owner.headers)
        assert r.status_code == 404, url
    r = await api.client.get(f"{API}/projects/{project['id']}/exports", headers=owner.headers)
    assert [e["id"] for e in r.json()["items"]] == [kept["id"]]
    await download(api, owner, kept)  # the other export is untouched
    r = await api.client.delete(f"{API}/exports/{gone['id']}", headers=owner.headers)
    assert r.status_code == 404


async def test_an_export_whose_row_is_not_saved_leaves_no_files(
    api: Api, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.ext.asyncio import AsyncSession

    me = await api.signup()
    project = await sdp_project(api, me)
    await run_through(api, me, project, 1)

    async def failing_commit(self: AsyncSession) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(AsyncSession, "commit", failing_commit)
    with pytest.raises(RuntimeError):
        await api.client.post(f"{API}/projects/{project['id']}/exports", headers=me.headers)
    monkeypatch.undo()
    assert app.state.storage.list(f"exports/{project['id']}") == []
    r = await api.client.get(f"{API}/projects/{project['id']}/exports", headers=me.headers)
    assert r.json()["items"] == []
