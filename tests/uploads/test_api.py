"""The uploads API end to end, on both database back ends: upload, process, read the
text, search, download, delete; every refusal answers with its code and keeps nothing."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from httpx import AsyncClient

from tests.conftest import run_jobs
from tests.factories import Account, Api, error_code
from tests.uploads.helpers import API, png, send, upload

pytestmark = pytest.mark.anyio

NOTES = (
    "Quarterly review of the courier pilot.\n"
    "Deliveries rose in March; the refrigerated van cut spoilage by a third.\n"
)


async def processed(api: Api, app: Any, who: Account, record: dict[str, Any]) -> dict[str, Any]:
    await run_jobs(app, record["job_id"])
    r = await api.client.get(f"{API}/{record['id']}", headers=who.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_text_file_is_stored_processed_and_searchable(api: Api, app: Any) -> None:
    me = await api.signup()
    data = NOTES.encode()
    record = await upload(api, me, "review notes.txt", data)
    assert record["status"] == "PENDING"
    assert record["mime_type"] == "text/plain"
    assert record["size"] == len(data)
    assert record["sha256"] == hashlib.sha256(data).hexdigest()
    assert record["filename"] == "review notes.txt"
    assert record["user_id"] == me.id and record["project_id"] is None
    assert record["job_id"]

    done = await processed(api, app, me, record)
    assert done["status"] == "COMPLETED", done
    assert done["processed_at"] is not None
    assert done["metadata"]["words"] == len(NOTES.split())

    r = await api.client.get(f"{API}/{record['id']}/text", headers=me.headers)
    assert r.status_code == 200, r.text
    assert r.json()["text"].strip() == NOTES.strip()

    r = await api.client.get(API, params={"q": "refrigerated SPOILAGE"}, headers=me.headers)
    assert [item["id"] for item in r.json()["items"]] == [record["id"]]
    r = await api.client.get(API, params={"q": "refrigerated bicycle"}, headers=me.headers)
    assert r.json()["items"] == []


async def test_search_finds_the_same_uploads_on_both_back_ends(api: Api, app: Any) -> None:
    """Case folds, accents stay, punctuation separates words, every word must be there."""
    me = await api.signup()
    texts = {
        "a": "Le café du coin ouvre à 7h; état-major réuni.",
        "b": "Cafe opening hours: 7am. The state major met.",
        "c": "Rapport: le CAFÉ ferme tard.",
    }
    ids = {}
    for key, text in texts.items():
        record = await upload(api, me, f"{key}.txt", text.encode())
        await run_jobs(app, record["job_id"])
        ids[record["id"]] = key

    async def found(q: str) -> set[str]:
        r = await api.client.get(API, params={"q": q}, headers=me.headers)
        assert r.status_code == 200, r.text
        return {ids[item["id"]] for item in r.json()["items"]}

    assert await found("café") == {"a", "c"}
    assert await found("cafe") == {"b"}
    assert await found("état") == {"a"}
    assert await found("major") == {"a", "b"}  # the hyphen separates words
    assert await found("le café") == {"a", "c"}
    assert await found("ferme tard") == {"c"}
    r = await api.client.get(API, params={"q": "?!"}, headers=me.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.q"


async def test_the_type_comes_from_the_bytes_not_the_client(api: Api) -> None:
    me = await api.signup()
    record = await upload(api, me, "holiday.txt", png(), content_type="text/plain")
    assert record["mime_type"] == "image/png"
    page = b"<html><body><script>alert(1)</script></body></html>"
    record = await upload(api, me, "page.html", page, content_type="text/html")
    assert record["mime_type"] == "text/plain"
    r = await api.client.get(f"{API}/{record['id']}/content", headers=me.headers)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]
    assert r.content == page


async def test_images_are_served_inline_and_get_a_thumbnail(api: Api, app: Any) -> None:
    me = await api.signup()
    data = png(640, 400, "#cc3333")
    record = await upload(api, me, "red.png", data)
    assert record["metadata"] == {"width": 640, "height": 400}
    r = await api.client.get(f"{API}/{record['id']}/content", headers=me.headers)
    assert r.status_code == 200 and r.content == data
    assert r.headers["content-disposition"].startswith("inline")
    assert r.headers["content-type"] == "image/png"
    done = await processed(api, app, me, record)
    assert done["status"] == "COMPLETED", done
    assert done["has_thumbnail"] is True
    assert done["metadata"]["dominantColors"][0] == "#cc3333"
    assert done["metadata"]["analysisResult"]["metadata"]["width"] == 640
    r = await api.client.get(f"{API}/{record['id']}/thumbnail", headers=me.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.content.startswith(b"\x89PNG")
    # Lists leave the OCR result out; the record has it.
    r = await api.client.get(API, headers=me.headers)
    listed = next(item for item in r.json()["items"] if item["id"] == record["id"])
    assert "analysisResult" not in listed["metadata"]


async def test_refusals_name_the_problem(api: Api) -> None:
    me = await api.signup()
    r = await api.client.post(
        API, data={"kind": "file"}, files={"other": ("x", b"x")}, headers=me.headers
    )
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.file"

    r = await send(api, me, "empty.txt", b"")
    assert r.status_code == 422 and error_code(r) == "empty_file"

    r = await send(api, me, "program.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200))
    assert r.status_code == 415 and error_code(r) == "unsupported_type"
    assert "application/pdf" in r.json()["detail"]["accepted"]

    r = await send(api, me, "doc.pdf", b"%PDF-1.4\n%%EOF\n", kind="image")
    assert r.status_code == 415
    assert r.json()["detail"]["accepted"] == ["image/jpeg", "image/png", "image/webp"]

    r = await send(api, me, "a.txt", b"hello", kind="spaceship")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.kind"

    r = await send(api, me, "a.txt", b"hello", project_id="not-a-uuid")
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.project_id"

    r = await send(api, me, "a.txt", b"hello", project_id=str(uuid.uuid4()))
    assert r.status_code == 404

    r = await api.client.post(API, content=b"just bytes", headers=me.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body"

    # Nothing of the refused uploads was kept.
    r = await api.client.get(API, headers=me.headers)
    assert r.json()["items"] == []


async def test_filenames_are_sanitized(api: Api) -> None:
    me = await api.signup()
    record = await upload(api, me, "../../etc/passwd.txt", b"root")
    assert record["filename"] == "passwd.txt"
    assert record["original_name"] == "../../etc/passwd.txt"
    record = await upload(api, me, "C:\\Users\\me\\" + "é" * 300 + ".txt", b"long")
    assert record["filename"].endswith(".txt")
    assert len(record["filename"].encode()) <= 200
    r = await api.client.get(f"{API}/{record['id']}/content", headers=me.headers)
    assert "filename*=UTF-8''" in r.headers["content-disposition"]


async def test_paging_through_long_text(api: Api, app: Any) -> None:
    me = await api.signup()
    text = "".join(f"line {n:05d}\n" for n in range(3000))
    record = await upload(api, me, "long.txt", text.encode())
    await run_jobs(app, record["job_id"])
    pieces, offset = [], 0
    while offset is not None:
        r = await api.client.get(
            f"{API}/{record['id']}/text",
            params={"offset": offset, "limit": 7000},
            headers=me.headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total_chars"] == len(text)
        pieces.append(body["text"])
        offset = body["next_offset"]
    assert "".join(pieces) == text and len(pieces) == 5
    r = await api.client.get(f"{API}/{record['id']}/text", params={"page": 1}, headers=me.headers)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "query.page"


async def test_delete_removes_bytes_and_text_and_keeps_the_record(api: Api, app: Any) -> None:
    me = await api.signup()
    record = await upload(api, me, "gone.txt", b"ephemeral words here")
    await run_jobs(app, record["job_id"])
    storage = app.state.storage
    assert storage.exists(record["path"])
    r = await api.client.delete(f"{API}/{record['id']}", headers=me.headers)
    assert r.status_code == 204
    assert not storage.exists(record["path"])
    r = await api.client.get(f"{API}/{record['id']}", headers=me.headers)
    assert r.json()["status"] == "DELETED"
    for tail in ("content", "text"):
        r = await api.client.get(f"{API}/{record['id']}/{tail}", headers=me.headers)
        assert r.status_code == 410 and error_code(r) == "upload_deleted"
    r = await api.client.get(API, params={"q": "ephemeral"}, headers=me.headers)
    assert r.json()["items"] == []
    r = await api.client.get(API, headers=me.headers)
    assert record["id"] not in [item["id"] for item in r.json()["items"]]
    r = await api.client.get(API, params={"status": "DELETED"}, headers=me.headers)
    assert [item["id"] for item in r.json()["items"]] == [record["id"]]
    r = await api.client.delete(f"{API}/{record['id']}", headers=me.headers)
    assert r.status_code == 410


async def test_a_file_that_cannot_be_read_fails_with_a_reason_and_stays(api: Api, app: Any) -> None:
    me = await api.signup()
    broken = b"%PDF-1.7\n1 0 obj <</Type /Catalog>>\nthis is not a pdf body"
    record = await upload(api, me, "broken.pdf", broken)
    assert record["mime_type"] == "application/pdf"
    done = await processed(api, app, me, record)
    assert done["status"] == "FAILED"
    assert done["failure_reason"]
    r = await api.client.get(f"{API}/{record['id']}/content", headers=me.headers)
    assert r.status_code == 200 and r.content == broken
    r = await api.client.get(f"/api/v1/jobs/{record['job_id']}", headers=me.headers)
    assert r.json()["status"] == "failed"


async def test_lists_filter_and_page(api: Api) -> None:
    me = await api.signup()
    project = await api.project(me)
    made = []
    for n in range(5):
        made.append(
            await upload(api, me, f"n{n}.txt", f"note {n}".encode(), project_id=project["id"])
        )
    made.append(await upload(api, me, "pic.png", png()))
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, "project_id": project["id"]}
        if cursor:
            params["cursor"] = cursor
        r = await api.client.get(API, params=params, headers=me.headers)
        assert r.status_code == 200, r.text
        seen += [item["id"] for item in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [m["id"] for m in reversed(made[:5])]
    r = await api.client.get(API, params={"mime_type": "image/*"}, headers=me.headers)
    assert [item["id"] for item in r.json()["items"]] == [made[5]["id"]]
    r = await api.client.get(API, params={"status": "PENDING"}, headers=me.headers)
    assert len(r.json()["items"]) == 6


async def test_another_user_cannot_reach_an_upload(api: Api) -> None:
    alice, bob = await api.signup("Alice"), await api.signup("Bob")
    project = await api.project(alice)
    record = await upload(api, alice, "secret.txt", b"alice only", project_id=project["id"])
    for tail in ("", "/content", "/thumbnail", "/text"):
        r = await api.client.get(f"{API}/{record['id']}{tail}", headers=bob.headers)
        assert r.status_code == 404, (tail, r.text)
        assert "alice only" not in r.text
    r = await api.client.delete(f"{API}/{record['id']}", headers=bob.headers)
    assert r.status_code == 404
    r = await api.client.get(API, headers=bob.headers)
    assert r.json()["items"] == []
    r = await api.client.get(API, params={"project_id": project["id"]}, headers=bob.headers)
    assert r.status_code == 404
    r = await send(api, bob, "plant.txt", b"x", project_id=project["id"])
    assert r.status_code == 404
    r = await api.client.get(f"{API}/{record['id']}", headers=alice.headers)
    assert r.status_code == 200 and r.json()["status"] == "PENDING"


async def test_organization_members_reach_uploads_by_role(api: Api) -> None:
    owner, member, viewer = [await api.signup(n) for n in ("Owner", "Member", "Viewer")]
    org = await api.organization(owner)
    await api.add_member(owner, org["id"], member, "MEMBER")
    await api.add_member(owner, org["id"], viewer, "VIEWER")
    project = await api.project(owner, organization_id=org["id"])
    mine = await upload(api, member, "member.txt", b"from the member", project_id=project["id"])
    theirs = await upload(api, owner, "owner.txt", b"from the owner", project_id=project["id"])
    r = await api.client.get(API, params={"project_id": project["id"]}, headers=viewer.headers)
    assert {i["id"] for i in r.json()["items"]} == {mine["id"], theirs["id"]}
    r = await api.client.get(f"{API}/{theirs['id']}/content", headers=viewer.headers)
    assert r.status_code == 200
    r = await send(api, viewer, "v.txt", b"viewer", project_id=project["id"])
    assert r.status_code == 403
    r = await api.client.delete(f"{API}/{theirs['id']}", headers=member.headers)
    assert r.status_code == 403
    r = await api.client.delete(f"{API}/{mine['id']}", headers=member.headers)
    assert r.status_code == 204
    r = await api.client.delete(f"{API}/{theirs['id']}", headers=owner.headers)
    assert r.status_code == 204


async def test_kinds_are_listed(api: Api) -> None:
    me = await api.signup()
    r = await api.client.get(f"{API}/kinds", headers=me.headers)
    assert r.status_code == 200
    kinds = {k["key"]: k for k in r.json()}
    assert {"file", "image"} <= set(kinds)
    assert "application/pdf" in kinds["file"]["content_types"]


async def test_uploads_need_a_user(client: AsyncClient) -> None:
    r = await client.get(API)
    assert r.status_code == 401


async def test_a_packs_kind_applies_its_own_rules(api: Api) -> None:
    """The example pack declares seed 003's screenshots: PNG or JPEG, 100 to 10,000 px."""
    me = await api.signup()
    r = await api.client.get(f"{API}/kinds", headers=me.headers)
    kind = next(k for k in r.json() if k["key"] == "example_screenshot")
    assert (kind["min_side"], kind["max_side"], kind["max_bytes"]) == (100, 10_000, 10485760)
    record = await upload(api, me, "screen.png", png(320, 200), kind="example_screenshot")
    assert record["kind"] == "example_screenshot"
    r = await send(api, me, "icon.png", png(64, 64), kind="example_screenshot")
    assert r.status_code == 422 and error_code(r) == "image_dimensions"
    assert "100" in r.json()["detail"][0]["message"]
    r = await send(api, me, "notes.txt", b"not a picture", kind="example_screenshot")
    assert r.status_code == 415
    assert r.json()["detail"]["accepted"] == ["image/png", "image/jpeg"]


async def test_a_file_whose_processing_keeps_dying_ends_failed(api: Api, app: Any) -> None:
    """Two runs that died mid-way (a restart, or a file that brings its process down):
    the last attempt marks the upload FAILED instead of trying a third time."""
    from sqlalchemy import update

    from atelier.jobs.models import Job

    me = await api.signup()
    record = await upload(api, me, "cursed.txt", b"some words")
    async with app.state.sessionmaker() as session:
        await session.execute(
            update(Job)
            .where(Job.id == uuid.UUID(record["job_id"]))
            .values(attempts=Job.max_attempts - 1)
        )
        await session.commit()
    done = await processed(api, app, me, record)
    assert done["status"] == "FAILED"
    assert "stopped before it finished" in done["failure_reason"]
    r = await api.client.get(f"{API}/{record['id']}/content", headers=me.headers)
    assert r.content == b"some words"
