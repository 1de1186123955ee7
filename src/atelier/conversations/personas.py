"""Every persona a conversation may take: the engine's own, then each pack's."""

from __future__ import annotations

from atelier.conversations.persona_spec import Persona
from atelier.core.packs import packs

DEFAULT_PERSONA = Persona(
    key="assistant",
    name="Assistant",
    description="A helpful, concise assistant for your work in Atelier.",
    system_prompt=(
        "You are Atelier's assistant. Answer the user's questions clearly and concisely, "
        "in {language}. Use Markdown for lists and code. When you use an attached file, "
        'name it (e.g. "Attachment 1"). If you do not know something, say so instead '
        "of guessing.\n{project_line}"
    ),
)


def all_personas() -> dict[str, Persona]:
    """By key; a pack cannot take a key the engine or another pack already has."""
    found = {DEFAULT_PERSONA.key: DEFAULT_PERSONA}
    for spec in packs.all():
        for persona in getattr(spec, "personas", ()):
            if persona.key in found:
                raise ValueError(f"pack {spec.key!r}: the persona key {persona.key!r} is taken")
            found[persona.key] = persona
    return found


def persona_for(key: str | None) -> Persona:
    """The conversation's persona; one that is no longer installed falls back to the
    default (its pack was removed: the chat stays usable)."""
    return all_personas().get(key or DEFAULT_PERSONA.key, DEFAULT_PERSONA)
