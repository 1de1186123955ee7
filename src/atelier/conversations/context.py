"""What a chat reply is asked with: the system prompt, as much of the history as fits the
model's window, and the attachments' text, each cut to its share.

Pure functions (no database, no model), so that the trimming is exact to test: the
caller loads the turns and the window, this decides what goes in and reports what was
left out, for the reply's metadata and the page's notice.

Token counts are estimated from characters (``CHARS_PER_TOKEN`` is on the cautious
side for English and code, so an estimate runs high rather than overflowing the window).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atelier.ai.providers.base import Message, Role

CHARS_PER_TOKEN = 3
MESSAGE_OVERHEAD_TOKENS = 6  # the chat template's markers around each message
# Of what is left for the prompt, at most this share goes to attachments in all.
ATTACHMENTS_SHARE = 0.5
MIN_ATTACHMENT_TOKENS = 48  # below this an attachment's excerpt says nothing useful
HISTORY_NOTE_MAX = 99_999  # the longest count the dropped-turns note may show


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS


@dataclass(frozen=True, slots=True)
class Attachment:
    """An attached upload's name and extracted text (None: it has no text)."""

    upload_id: str
    name: str
    text: str | None


@dataclass(frozen=True, slots=True)
class Turn:
    role: Role
    content: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(slots=True)
class ContextPlan:
    messages: list[Message]
    window_tokens: int
    reply_tokens: int
    prompt_tokens: int  # estimated
    dropped_messages: int = 0
    message_cut: bool = False
    attachments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def trimmed(self) -> bool:
        """Something the user sent is not (wholly) in the prompt: the page says so."""
        return (
            self.dropped_messages > 0
            or self.message_cut
            or any(item["cut"] for item in self.attachments)
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "window_tokens": self.window_tokens,
            "reply_tokens": self.reply_tokens,
            "prompt_tokens_estimate": self.prompt_tokens,
            "dropped_messages": self.dropped_messages,
            "message_cut": self.message_cut,
            "attachments": self.attachments,
            "trimmed": self.trimmed,
        }


def reply_budget(window: int, wanted: int) -> int:
    """Tokens kept for the reply: what the settings want, at most a quarter of the
    window (a small model's window must still hold some history)."""
    return max(16, min(wanted, window // 4))


def plan_context(
    *, system: str, history: list[Turn], new: Turn, window: int, reply_tokens: int
) -> ContextPlan:
    """The prompt for a reply to ``new``: oldest turns dropped first until the estimate
    fits ``window - reply_tokens``; attachments share half of what is left, equally;
    a new message that alone does not fit is cut (and the plan says so)."""
    # The note on dropped turns is added to the system prompt afterwards: keep room.
    budget = window - reply_tokens - estimate_tokens(system + _dropped_note(HISTORY_NOTE_MAX))
    kept = list(history)
    dropped = 0
    while True:
        turns = [*kept, new]
        share = _attachment_share(turns, budget)
        rendered, notes = _render(turns, share)
        used = sum(estimate_tokens(text) for _, text in rendered)
        if used <= budget or not kept:
            break
        kept.pop(0)
        dropped += 1
    message_cut = False
    if used > budget:
        # Only the new message is left and it is too long: keep its start.
        others = used - estimate_tokens(rendered[-1][1])
        room_chars = max(0, (budget - others - MESSAGE_OVERHEAD_TOKENS) * CHARS_PER_TOKEN)
        rendered[-1] = (rendered[-1][0], rendered[-1][1][:room_chars])
        message_cut = True
        used = sum(estimate_tokens(text) for _, text in rendered)
    system_text = system + (_dropped_note(dropped) if dropped else "")
    messages = [Message(role="system", content=system_text)]
    messages += [Message(role=role, content=text) for role, text in rendered]
    return ContextPlan(
        messages=messages,
        window_tokens=window,
        reply_tokens=reply_tokens,
        prompt_tokens=used + estimate_tokens(system_text),
        dropped_messages=dropped,
        message_cut=message_cut,
        attachments=notes,
    )


def _dropped_note(count: int) -> str:
    plural = "s" if count != 1 else ""
    return (
        f"\n\n(The {count} oldest message{plural} of this conversation no longer fit "
        "and are not shown.)"
    )


def _attachment_share(turns: list[Turn], budget: int) -> int:
    """Tokens for each attachment's text, equal for all of those still in view."""
    count = sum(1 for turn in turns for item in turn.attachments if item.text)
    if count == 0:
        return 0
    return max(MIN_ATTACHMENT_TOKENS, int(max(budget, 0) * ATTACHMENTS_SHARE) // count)


def _render(turns: list[Turn], share: int) -> tuple[list[tuple[Role, str]], list[dict[str, Any]]]:
    """Each turn's text with its attachments numbered in order of appearance, so that a
    reply can cite "Attachment 2"; and what was included of each."""
    rendered: list[tuple[Role, str]] = []
    notes: list[dict[str, Any]] = []
    number = 0
    for turn in turns:
        parts = [turn.content]
        for item in turn.attachments:
            number += 1
            label = f"Attachment {number}: {item.name}"
            if not item.text:
                parts.append(f"[{label} (no text could be read from this file)]")
                notes.append(_note(item, number, 0, 0))
                continue
            room = max(0, (share - MESSAGE_OVERHEAD_TOKENS) * CHARS_PER_TOKEN)
            excerpt = item.text[:room]
            cut = len(excerpt) < len(item.text)
            ending = " (cut here: the rest did not fit)" if cut else ""
            parts.append(f"[{label}]\n{excerpt}\n[end of attachment {number}{ending}]")
            notes.append(_note(item, number, len(excerpt), len(item.text)))
        rendered.append((turn.role, "\n\n".join(parts)))
    return rendered, notes


def _note(item: Attachment, number: int, included: int, total: int) -> dict[str, Any]:
    return {
        "number": number,
        "upload_id": item.upload_id,
        "name": item.name,
        "included_chars": included,
        "total_chars": total,
        "cut": included < total,
    }
