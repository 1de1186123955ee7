"""The context plan on its own: what fits a window, what is dropped, how attachments are
shared and cut, and what the plan reports."""

from __future__ import annotations

from atelier.ai.providers.base import ProviderSettings
from atelier.ai.resolve import ResolvedProvider
from atelier.ai.windows import DEFAULT_WINDOW, context_window
from atelier.conversations.context import (
    CHARS_PER_TOKEN,
    Attachment,
    Turn,
    estimate_tokens,
    plan_context,
    reply_budget,
)


def turns(count: int, size: int = 300) -> list[Turn]:
    return [
        Turn(role="user" if n % 2 == 0 else "assistant", content=f"m{n} " + "x" * size)
        for n in range(count)
    ]


def test_everything_fits_a_large_window() -> None:
    history = turns(6)
    plan = plan_context(
        system="S",
        history=history,
        new=Turn(role="user", content="now"),
        window=8000,
        reply_tokens=500,
    )
    assert [m.content for m in plan.messages[1:-1]] == [t.content for t in history]
    assert plan.messages[0].content == "S" and plan.messages[-1].content == "now"
    assert plan.dropped_messages == 0 and not plan.trimmed


def test_the_oldest_turns_go_first_and_the_system_prompt_says_so() -> None:
    history = turns(20)  # ~106 tokens each
    window, reply = 1000, 200
    plan = plan_context(
        system="S",
        history=history,
        new=Turn(role="user", content="now"),
        window=window,
        reply_tokens=reply,
    )
    kept = [m.content for m in plan.messages[1:-1]]
    assert plan.dropped_messages == 20 - len(kept) > 0
    assert kept == [t.content for t in history[plan.dropped_messages :]]  # newest kept
    assert f"The {plan.dropped_messages} oldest messages" in plan.messages[0].content
    assert plan.prompt_tokens <= window - reply
    # Not more than needed: one turn more would not have fitted.
    one_more = plan.prompt_tokens + estimate_tokens(history[plan.dropped_messages - 1].content)
    assert one_more > window - reply - 40
    assert plan.trimmed and plan.as_json()["dropped_messages"] == plan.dropped_messages


def test_attachments_are_numbered_named_and_share_the_room() -> None:
    small = Attachment(upload_id="u1", name="notes.txt", text="short text")
    big = Attachment(upload_id="u2", name="report.pdf", text="y" * 50_000)
    blank = Attachment(upload_id="u3", name="photo.png", text=None)
    plan = plan_context(
        system="S",
        history=[Turn(role="user", content="see", attachments=(small,))],
        new=Turn(role="user", content="and these", attachments=(big, blank)),
        window=4000,
        reply_tokens=1000,
    )
    text = "\n".join(m.content for m in plan.messages)
    assert "[Attachment 1: notes.txt]\nshort text\n[end of attachment 1]" in text
    assert "[Attachment 2: report.pdf]" in text and "cut here" in text
    assert "[Attachment 3: photo.png (no text could be read from this file)]" in text
    notes = {n["name"]: n for n in plan.attachments}
    assert notes["notes.txt"]["cut"] is False and notes["notes.txt"]["included_chars"] == 10
    assert notes["report.pdf"]["cut"] is True and notes["report.pdf"]["total_chars"] == 50_000
    # Two attachments with text share half of what is left: the big one gets its half.
    room = 4000 - 1000 - estimate_tokens("S")
    assert notes["report.pdf"]["included_chars"] <= (room // 2 // 2) * CHARS_PER_TOKEN
    assert plan.prompt_tokens <= 4000 - 1000 and plan.trimmed


def test_a_message_too_long_for_the_window_is_cut_and_flagged() -> None:
    plan = plan_context(
        system="S",
        history=turns(3),
        new=Turn(role="user", content="z" * 10_000),
        window=600,
        reply_tokens=150,
    )
    assert plan.dropped_messages == 3 and plan.message_cut
    assert plan.messages[-1].content == "z" * len(plan.messages[-1].content)
    assert 0 < len(plan.messages[-1].content) < 10_000
    assert plan.prompt_tokens <= 600 - 150


def test_the_reply_keeps_at_most_a_quarter_of_the_window() -> None:
    assert reply_budget(8192, 1024) == 1024
    assert reply_budget(2048, 1024) == 512
    assert reply_budget(40, 1024) == 16


def test_context_windows_by_provider() -> None:
    def resolved(kind: str, model: str, **options: object) -> ResolvedProvider:
        return ResolvedProvider(
            kind=kind,
            settings=ProviderSettings(kind=kind, default_model=model, context_length=4096),
            config_id=None,
            options=dict(options),
        )

    assert context_window(resolved("local", "qwen")) == 4096  # as loaded
    assert context_window(resolved("anthropic", "claude-sonnet-4-5")) == 200_000
    assert context_window(resolved("openai", "gpt-4o-mini")) == 128_000
    assert context_window(resolved("custom", "llama3")) == DEFAULT_WINDOW
    assert context_window(resolved("custom", "llama3", context_window=32_000)) == 32_000
    assert context_window(resolved("openai", "gpt-4o"), cap=2000) == 2000
