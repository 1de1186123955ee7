"""The general pack: tools that fit any project (a project created without a pack has it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from atelier.packs.base import PackSpec

if TYPE_CHECKING:
    from atelier.ai.tools import Tool

PACK = PackSpec(
    key="general",
    label="General",
    description="Free-form AI briefs and artifacts, for anything else.",
    order=90,
    badge_colors=("#eef1f5", "#5b6472"),
    tools="atelier.packs.general:tools",
)


def tools() -> list[Tool]:
    from atelier.packs.general.brief import BriefTool

    return [BriefTool()]
