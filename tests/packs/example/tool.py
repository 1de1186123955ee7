"""The example pack's tool: a title for a note."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from atelier.ai.tools import Tool


class TitleInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str


class TitleOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str


class ExampleTitleTool(Tool):
    key = "example_title"
    title = "Note title"
    description = "A short title for a note."
    pack = "example"
    input_model = TitleInput
    output_model = TitleOutput
    prompt_file = Path(__file__).parent / "prompts" / "title.j2"
    prompt_version = "1"


def tools() -> list[Tool]:
    return [ExampleTitleTool()]
