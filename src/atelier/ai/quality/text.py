"""Text as the rules compare it: lower-case words, word n-grams, similarity."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def words(text: str) -> list[str]:
    return [w.casefold() for w in _WORD.findall(text)]


def normalized(text: str) -> str:
    """Case, punctuation and spacing removed: "Fast  delivery!" and "fast delivery" match."""
    return " ".join(words(text))


def ngrams(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def similarity(a: str, b: str) -> float:
    """0..1 between two normalised texts (difflib's ratio, with its cheap bounds first)."""
    if a == b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.85 or matcher.quick_ratio() < 0.85:
        return matcher.quick_ratio()
    return matcher.ratio()
