"""The general pack: tools that fit any project."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from atelier.ai.tools import ToolRegistry


def register(registry: ToolRegistry) -> None:
    from atelier.packs.general.brief import BriefTool

    registry.register(BriefTool())
