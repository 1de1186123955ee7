"""Every file a page asks for is there: no 404 for a stylesheet, a script or the icon,
which a browser would otherwise report on every page."""

from __future__ import annotations

import uuid
from typing import Any

from tests.web.conftest import sign_up
from tests.web.test_sdp_pages import new_project


def test_pages_load_all_their_files(page: Any) -> None:
    failed: list[str] = []
    page.on(
        "response",
        lambda response: (
            failed.append(f"{response.status} {response.url}") if response.status >= 400 else None
        ),
    )
    # The browser's own requests (the icon) are not page responses; their failures show
    # in the console.
    page.on(
        "console",
        lambda message: failed.append(message.text) if message.type == "error" else None,
    )
    page.goto("/login")
    sign_up(page, "Asset Ann", f"assets-{uuid.uuid4().hex[:10]}@example.com")
    project = new_project(page)
    pages = ("/projects", "/projects/new", "/usage", "/settings/providers", "/jobs")
    for path in (*pages, f"/sdp/{project}", f"/projects/{project}/stages/1"):
        page.goto(path)
        page.wait_for_load_state("load")
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon and page.request.get(icon).ok
    assert failed == []
