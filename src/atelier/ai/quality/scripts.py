"""Which writing systems a project's language uses, and the characters outside them.

A small model sometimes drifts into another script mid-word ("renters fear使用"): the
PDF draws such characters as empty boxes, and a reader of the project's language cannot
read them. Latin letters are allowed in every language (names, brands, code).
"""

from __future__ import annotations

import unicodedata

from atelier.core.languages import DEFAULT_LANGUAGE, LANGUAGES

# Punctuation and symbols that belong to a script (the ideographic full stop "。", the
# full-width comma) are checked like letters; every other one is fine anywhere.
_SCRIPT_BOUND_PREFIXES = ("CJK", "IDEOGRAPHIC", "FULLWIDTH", "HALFWIDTH", "HIRAGANA", "KATAKANA")


def scripts_of(language: str) -> frozenset[str]:
    return LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])[1]


def script(char: str) -> str | None:
    """The script a character belongs to, or None when any language may use it (digits,
    common punctuation, symbols, spaces)."""
    category = unicodedata.category(char)
    name = unicodedata.name(char, "")
    if category[0] == "M":  # a combining mark goes with the letter before it
        return None
    if category[0] == "L" or (category == "Nd" and not char.isascii()):
        return name.split(" ", 1)[0] if name else "UNKNOWN"
    if name.startswith(_SCRIPT_BOUND_PREFIXES):
        return name.split(" ", 1)[0]
    return None


def off_script(text: str, language: str) -> list[str]:
    """The distinct characters of ``text`` outside the language's scripts, in order."""
    allowed = scripts_of(language)
    found: list[str] = []
    for char in text:
        if char.isascii() or char in found:
            continue
        kind = script(char)
        if kind is not None and kind not in allowed:
            found.append(char)
    return found
