"""``Persona``: who the assistant is in a conversation (packs declare theirs in
``PackSpec.personas``; the engine's own is ``assistant``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Persona:
    """A named voice for chat replies.

    ``system_prompt`` may use ``{project_name}``, ``{project_description}`` and
    ``{language}``; placeholders without a value (a chat about no project) become
    empty. ``context_tools`` names tools whose latest results in the conversation's
    project go into the context (each cut to a share of the model's window)."""

    key: str
    name: str
    description: str
    system_prompt: str
    context_tools: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (1 <= len(self.key) <= 64 and self.key == self.key.lower()):
            raise ValueError(f"a persona key is 1-64 lower-case characters: {self.key!r}")
