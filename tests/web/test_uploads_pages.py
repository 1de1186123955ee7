"""The uploads pages in the browser: files chosen with the file input go to the API with
their progress shown, their status follows processing without a reload, the preview
shows the extracted text, search and delete work, refusals are worded next to their file,
a project's page lists only its files (and offers no upload zone to a viewer), and
another user gets the 404 page."""

from __future__ import annotations

import io
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.web.conftest import screenshot, sign_up

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (make install does)"
)
expect = sync_api.expect

# Processing runs as a job on the live server's in-process runner; OCR of an image
# takes a few seconds on a busy machine.
PROCESSED = 60_000

# Longer than one preview window (5,000 characters), so that "More text" has more.
NOTES = (
    "Orchard journal. The quince trees flowered early this spring and the bees were busy. " * 70
) + "Last line: the cider press needs a new gasket."
UPLOAD_URL = re.compile(r"/uploads/([0-9a-f-]{36})$")


def email() -> str:
    return f"up-{uuid.uuid4().hex[:10]}@example.com"


def csrf(page: Any) -> str:
    return str(page.locator("meta[name=csrf-token]").get_attribute("content"))


def api(page: Any, method: str, url: str, data: Any = None) -> Any:
    """The JSON API with the browser's session cookie, as the page scripts call it."""
    response = page.request.fetch(
        url, method=method, data=data, headers={"X-CSRF-Token": csrf(page)}
    )
    assert response.ok, f"{method} {url}: {response.status} {response.text()}"
    return response.json() if response.body() else None


def upload_by_api(page: Any, name: str, body: bytes, project_id: str | None = None) -> Any:
    form: dict[str, Any] = {"file": {"name": name, "mimeType": "text/plain", "buffer": body}}
    if project_id:
        form["project_id"] = project_id
    response = page.request.post(
        "/api/v1/uploads", multipart=form, headers={"X-CSRF-Token": csrf(page)}
    )
    assert response.status == 201, response.text()
    return response.json()


def text_file(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/plain", "buffer": text.encode()}


def png_file(name: str, size: tuple[int, int] = (64, 48)) -> dict[str, Any]:
    image = Image.new("RGB", size, (236, 241, 250))
    ImageDraw.Draw(image).rectangle((8, 8, size[0] - 8, size[1] - 8), fill=(47, 91, 211))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return {"name": name, "mimeType": "image/png", "buffer": buffer.getvalue()}


def row(page: Any, name: str) -> Any:
    return page.locator("#upload-list .upload-row", has_text=name)


def test_upload_follow_preview_search_and_delete(page: Any) -> None:
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    sign_up(page, "Uma Uploader", email())
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Uploads").click()
    page.wait_for_url("**/uploads")
    expect(page.get_by_role("heading", name="Uploads", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name="No files yet")).to_be_visible()
    # Set on the page: still there at the end means the page was never reloaded.
    page.evaluate("window.notReloaded = true")

    chooser = page.get_by_label("Choose files")
    chooser.set_input_files([text_file("orchard-notes.txt", NOTES), png_file("quince.png")])

    items = page.locator("#upload-queue .upload-item")
    expect(items).to_have_count(2)
    for index in range(2):
        expect(items.nth(index).locator(".upload-percent")).to_have_text("100 %")
        expect(items.nth(index).locator("progress")).to_have_js_property("value", 100)
        expect(items.nth(index)).to_contain_text("Sent")

    notes, image = row(page, "orchard-notes.txt"), row(page, "quince.png")
    # The newest on top: the PNG was sent second.
    expect(page.locator("#upload-list .upload-row").first).to_contain_text("quince.png")
    expect(page.locator("#uploads-empty")).to_have_count(0)
    for each in (notes, image):
        expect(each.locator("[data-status-badge]")).to_have_text("Completed", timeout=PROCESSED)
    expect(image.locator("img")).to_have_count(1)
    image.locator("img").evaluate("img => img.decode()")
    assert image.locator("img").evaluate("img => img.naturalWidth") > 0
    expect(notes.locator(".upload-meta")).to_contain_text("Text")
    expect(image.locator(".upload-meta")).to_contain_text("PNG image")
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "uploads-list")

    # The preview: facts, the first window of text, then the next one.
    notes.get_by_role("link", name="orchard-notes.txt", exact=True).click()
    page.wait_for_url(UPLOAD_URL)
    notes_url = page.url
    expect(page.get_by_role("heading", name="orchard-notes.txt")).to_be_visible()
    text = page.locator("pre.upload-text")
    expect(text).to_contain_text("Orchard journal. The quince trees flowered early")
    expect(text).not_to_contain_text("cider press")
    facts = page.locator("dl.kv")
    expect(facts).to_contain_text("Words")
    expect(facts).to_contain_text("English")
    expect(page.get_by_role("link", name="Download")).to_have_attribute(
        "href", re.compile(r"/api/v1/uploads/[0-9a-f-]{36}/content$")
    )
    screenshot(page, "upload-preview")
    page.get_by_role("link", name="More text").click()
    expect(text).to_contain_text("Last line: the cider press needs a new gasket.")
    page.get_by_role("link", name="Start").click()
    expect(text).to_contain_text("Orchard journal.")

    page.goto("/uploads")
    row(page, "quince.png").get_by_role("link", name="Preview quince.png").click()
    expect(page.locator("dl.kv")).to_contain_text("64 \u00d7 48 pixels")
    expect(page.get_by_role("img", name="Thumbnail of quince.png")).to_be_visible()

    # Search reads the extracted text: the notes have "quince", the image has no text.
    page.goto("/uploads")
    page.get_by_label("Search the text of the files").fill("quince gasket")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/uploads\?q=quince\+gasket"))
    rows = page.locator("#upload-list .upload-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("orchard-notes.txt")
    screenshot(page, "uploads-search")
    page.get_by_label("Search the text of the files").fill("pear")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="No files match")).to_be_visible()
    # A search without a word is said next to the box.
    page.get_by_label("Search the text of the files").fill("!!")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#q-error")).to_contain_text("at least one word")
    page.goto("/uploads?status=COMPLETED")
    expect(page.locator("#upload-list .upload-row")).to_have_count(2)
    page.goto("/uploads?status=FAILED")
    expect(page.locator("#upload-list .upload-row")).to_have_count(0)

    # Delete, after a confirmation: gone from the list, and deleted in the API.
    page.goto("/uploads")
    image_id = row(page, "quince.png").get_attribute("data-upload-id")
    dialogs: list[str] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Delete quince.png").click()
    page.wait_for_url("**/uploads?msg=deleted")
    expect(page.get_by_role("status").filter(has_text="File deleted.")).to_be_visible()
    expect(page.locator("#upload-list .upload-row")).to_have_count(1)
    expect(row(page, "quince.png")).to_have_count(0)
    assert dialogs and "quince.png" in dialogs[0]
    assert api(page, "GET", f"/api/v1/uploads/{image_id}")["status"] == "DELETED"

    # Deleted from its preview page too.
    page.goto(notes_url)
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url("**/uploads?msg=deleted")
    expect(page.get_by_role("heading", name="No files yet")).to_be_visible()
    assert script_errors == []


def test_refused_files_are_explained_next_to_them(page: Any, tmp_path: Path) -> None:
    sign_up(page, "Rita Refused", email())
    page.goto("/uploads")
    # Over the limit: checked before sending (a sparse file, nothing is read).
    huge = tmp_path / "huge.pdf"
    with huge.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024 + 1)
    chooser = page.get_by_label("Choose files")
    exe = {
        "name": "setup.exe",
        "mimeType": "application/octet-stream",
        "buffer": b"MZ" + bytes(2048),
    }
    # One choice after another (Playwright takes either payloads or paths in one call);
    # the page sends them in the order they were chosen.
    chooser.set_input_files([exe, {"name": "empty.txt", "mimeType": "text/plain", "buffer": b""}])
    chooser.set_input_files(str(huge))
    chooser.set_input_files(text_file("fine.txt", "A file that is fine."))
    items = page.locator("#upload-queue .upload-item")
    expect(items).to_have_count(4)
    expect(items.nth(0)).to_contain_text(
        "Not sent: this type is not accepted (accepted: PDF, Word, Excel, CSV, Markdown, "
        "Text, PNG image, JPEG image, WebP image)."
    )
    expect(items.nth(1)).to_contain_text("Not sent: the file is empty.")
    expect(items.nth(2)).to_contain_text("Not sent: too large: the limit is 50 MB.")
    expect(items.nth(3)).to_contain_text("Sent")
    for index in range(3):
        expect(items.nth(index)).to_have_class(re.compile("is-error"))
    # Only the good one was kept.
    expect(page.locator("#upload-list .upload-row")).to_have_count(1)
    expect(row(page, "fine.txt").locator("[data-status-badge]")).to_have_text(
        "Completed", timeout=PROCESSED
    )
    screenshot(page, "uploads-errors")
    listed = api(page, "GET", "/api/v1/uploads")["items"]
    assert [item["original_name"] for item in listed] == ["fine.txt"]


def test_the_file_input_is_keyboard_usable(page: Any) -> None:
    sign_up(page, "Kim Keys", email())
    page.goto("/uploads")
    page.get_by_label("Search the text of the files").focus()
    # Backwards from the search box: the file input comes just before.
    page.keyboard.press("Shift+Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused == "upload-input"
    chooser = None
    # Chromium under a full CI load has once let a key press on the input go by without
    # opening the chooser (the input kept its focus); a second press is what a person
    # would do, and a chooser that never opens still fails the test.
    for _ in range(3):
        try:
            with page.expect_file_chooser(timeout=5_000) as opened:
                page.keyboard.press("Space")
            chooser = opened.value
            break
        except sync_api.TimeoutError:
            assert page.evaluate("document.activeElement.id") == "upload-input"
    assert chooser is not None, "Space on the focused file input never opened the chooser"
    chooser.set_files([text_file("typed.txt", "Chosen with the keyboard.")])
    expect(row(page, "typed.txt")).to_have_count(1)


def test_files_dropped_on_the_zone_are_sent(page: Any) -> None:
    sign_up(page, "Dee Drop", email())
    page.goto("/uploads")
    dropped = page.evaluate_handle(
        """() => {
            const data = new DataTransfer();
            data.items.add(new File(["Dropped on the zone."], "dropped.txt", {type: "text/plain"}));
            return data;
        }"""
    )
    zone = page.locator("#upload-zone")
    zone.dispatch_event("dragenter", {"dataTransfer": dropped})
    zone.dispatch_event("dragover", {"dataTransfer": dropped})
    expect(zone).to_have_class(re.compile("is-dragover"))
    zone.dispatch_event("drop", {"dataTransfer": dropped})
    expect(zone).not_to_have_class(re.compile("is-dragover"))
    expect(page.locator("#upload-queue .upload-item .upload-percent")).to_have_text("100 %")
    expect(row(page, "dropped.txt").locator("[data-status-badge]")).to_have_text(
        "Completed", timeout=PROCESSED
    )


def test_project_uploads_list_only_its_files(page: Any, browser: Any, base_url: str) -> None:
    sign_up(page, "Pia Project", email())
    orchard = api(page, "POST", "/api/v1/projects", {"name": "Orchard plan"})["id"]
    barn = api(page, "POST", "/api/v1/projects", {"name": "Barn plan"})["id"]
    upload_by_api(page, "barn-notes.txt", b"Hay bales and a new roof.", barn)
    upload_by_api(page, "loose-notes.txt", b"Belongs to no project.")

    # From the project page to its uploads.
    page.goto(f"/projects/{orchard}")
    page.get_by_role("link", name="Uploads", exact=True).last.click()
    page.wait_for_url(f"**/projects/{orchard}/uploads")
    crumbs = page.get_by_role("navigation", name="Breadcrumb")
    expect(crumbs).to_contain_text("Projects")
    expect(crumbs.get_by_role("link", name="Orchard plan")).to_have_attribute(
        "href", f"/projects/{orchard}"
    )
    expect(page.get_by_role("heading", name="Uploads of Orchard plan")).to_be_visible()
    page.get_by_label("Choose files").set_input_files(
        [text_file("orchard-notes.txt", "Prune the apple trees in February.")]
    )
    expect(row(page, "orchard-notes.txt").locator("[data-status-badge]")).to_have_text(
        "Completed", timeout=PROCESSED
    )
    orchard_upload = row(page, "orchard-notes.txt").get_attribute("data-upload-id")
    assert api(page, "GET", f"/api/v1/uploads/{orchard_upload}")["project_id"] == orchard

    page.reload()
    names = page.locator("#upload-list .upload-name")
    expect(names).to_have_text(["orchard-notes.txt"])
    screenshot(page, "uploads-project")
    page.goto("/uploads")
    expect(page.locator("#upload-list .upload-name")).to_have_text(
        ["orchard-notes.txt", "loose-notes.txt", "barn-notes.txt"]
    )
    # Its preview's breadcrumbs lead back to the project's files.
    row(page, "orchard-notes.txt").get_by_role("link", name="orchard-notes.txt", exact=True).click()
    expect(
        page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name="Uploads")
    ).to_have_attribute("href", f"/projects/{orchard}/uploads")

    # The orchard is shared with an organization where a second person is a viewer.
    context = browser.new_context(base_url=base_url)
    try:
        viewer = context.new_page()
        viewer_email = email()
        sign_up(viewer, "Vic Viewer", viewer_email)
        org = api(page, "POST", "/api/v1/organizations", {"name": f"Farm {uuid.uuid4().hex[:6]}"})
        api(
            page,
            "POST",
            f"/api/v1/organizations/{org['id']}/members",
            {"email": viewer_email, "role": "VIEWER"},
        )
        api(page, "PATCH", f"/api/v1/projects/{orchard}", {"organization_id": org["id"]})

        viewer.goto(f"/projects/{orchard}/uploads")
        expect(viewer.locator("#upload-list .upload-name")).to_have_text(["orchard-notes.txt"])
        expect(viewer.locator("#upload-zone")).to_have_count(0)
        expect(
            viewer.get_by_role("status").filter(has_text="read its files, not add any")
        ).to_be_visible()
        expect(viewer.get_by_role("button", name=re.compile("^Delete"))).to_have_count(0)
        viewer.goto(f"/uploads/{orchard_upload}")
        expect(viewer.locator("pre.upload-text")).to_contain_text("Prune the apple trees")
        expect(viewer.get_by_role("button", name="Delete")).to_have_count(0)
        refused = viewer.request.post(
            f"/uploads/{orchard_upload}/delete",
            form={"csrf_token": csrf(viewer)},
            headers={"Accept": "text/html"},
        )
        assert refused.status == 403
        # The viewer's own list holds only their own files.
        viewer.goto("/uploads")
        expect(viewer.get_by_role("heading", name="No files yet")).to_be_visible()
    finally:
        context.close()


def test_another_user_gets_the_404_page(page: Any, browser: Any, base_url: str) -> None:
    sign_up(page, "Owen Owner", email())
    project = api(page, "POST", "/api/v1/projects", {"name": "Secret recipes"})["id"]
    secret = upload_by_api(page, "secret-recipe.txt", b"Three parts quince, one part honey.")
    in_project = upload_by_api(page, "project-recipe.txt", b"Quince paste.", project)

    context = browser.new_context(base_url=base_url)
    try:
        other = context.new_page()
        sign_up(other, "Nosy Nora", email())
        for path in (
            f"/uploads/{secret['id']}",
            f"/uploads/{in_project['id']}",
            f"/uploads/{secret['id']}/row",
            f"/projects/{project}/uploads",
            f"/uploads/{uuid.uuid4()}",
            "/uploads/not-an-id",
        ):
            answer = other.goto(path)
            assert answer is not None and answer.status == 404, path
            expect(other.get_by_role("heading", name="Not found")).to_be_visible()
            assert "recipe.txt" not in other.content(), path
        answer = other.request.post(
            f"/uploads/{secret['id']}/delete",
            form={"csrf_token": csrf(other), "next": "/uploads"},
            headers={"Accept": "text/html"},
        )
        assert answer.status == 404
        assert "Not found" in answer.text()
        screenshot(other, "uploads-404")
    finally:
        context.close()
    # Nothing happened to it.
    assert api(page, "GET", f"/api/v1/uploads/{secret['id']}")["status"] != "DELETED"


def test_a_delete_form_without_its_token_changes_nothing(page: Any) -> None:
    sign_up(page, "Cleo Csrf", email())
    upload = upload_by_api(page, "keep.txt", b"Keep me.")
    answer = page.request.post(
        f"/uploads/{upload['id']}/delete", form={"csrf_token": "forged", "next": "/uploads"}
    )
    assert answer.ok
    assert f"/uploads/{upload['id']}?msg=expired" in answer.url
    assert api(page, "GET", f"/api/v1/uploads/{upload['id']}")["status"] != "DELETED"
    page.goto(answer.url)
    expect(page.get_by_role("status").filter(has_text="The form expired")).to_be_visible()


def test_load_more_adds_the_older_files(page: Any) -> None:
    sign_up(page, "Lou Lots", email())
    for number in range(1, 23):
        upload_by_api(page, f"note-{number:02}.txt", f"Note number {number}.".encode())
    page.goto("/uploads")
    rows = page.locator("#upload-list .upload-row")
    expect(rows).to_have_count(20)
    expect(rows.first).to_contain_text("note-22.txt")
    page.evaluate("window.notReloaded = true")
    page.get_by_role("link", name="Load more files").click()
    expect(rows).to_have_count(22)
    expect(rows.last).to_contain_text("note-01.txt")
    expect(page.get_by_role("link", name="Load more files")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    # Rows added by "Load more" follow their status too.
    expect(rows.last.locator("[data-status-badge]")).to_have_text("Completed", timeout=PROCESSED)


def test_uploads_fit_a_phone(page: Any) -> None:
    sign_up(page, "Pat Phone", email())
    upload_by_api(page, "a-file-with-a-rather-long-name-for-a-small-screen.txt", b"Small.")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/uploads")
    expect(page.locator("#upload-list .upload-row")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "uploads-phone")
