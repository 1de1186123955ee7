"""A stage of a pack's pipeline, as the engine's stage state machine sees it.

A pack with a pipeline (``PackSpec.pipeline``) lists its stages in order; the engine
creates one Stage row per entry and drives each through locked → active → generating →
review → complete (``stages.pipeline``), whatever the pack.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StageSpec:
    number: int  # 1-based, in order
    name: str  # stable key (seed 001 stageName)
    label: str  # for people (seed 001 stageLabel)
    folder: str  # the stage's folder in an exported package
    summary: str  # one line for help text and the UI
    tool_key: str  # the AI tool that generates it (a deterministic stage has one too)
