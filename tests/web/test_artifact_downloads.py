"""An artifact offers downloads only once it has an output to download."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.packs.strategy_examples import INPUTS
from tests.web.test_strategy_pages import (
    create_artifact,
    email,
    new_user_with_project,
    wait_for_document,
)


def test_downloads_appear_with_the_first_output(page: Any) -> None:
    project_id = new_user_with_project(page, f"Download Dora {email()}")
    empty = create_artifact(
        page,
        project_id,
        type="value_proposition",
        name="Not yet",
        input_data=INPUTS["value_proposition"],
    )
    page.goto(f"/artifacts/{empty}")
    expect(page.get_by_role("heading", name="No output yet")).to_be_visible()
    expect(page.get_by_role("group", name="Download")).to_have_count(0)

    done = create_artifact(
        page,
        project_id,
        type="value_proposition",
        name="Generated",
        input_data=INPUTS["value_proposition"],
        generate=True,
    )
    page.goto(f"/artifacts/{done}")
    wait_for_document(page)
    group = page.get_by_role("group", name="Download")
    for label in ("Markdown", "PDF", "JSON"):
        expect(group.get_by_role("link", name=label)).to_be_visible()
