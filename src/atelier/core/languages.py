"""The languages a project can be written in, and the scripts each one's letters use.

A project's ``language`` is one of these codes; the quality checks flag characters of
other scripts (``ai/quality/scripts.py``). Latin is allowed everywhere: names, brands
and code are written in it.
"""

from __future__ import annotations

_EAST_ASIAN = frozenset({"CJK", "IDEOGRAPHIC", "FULLWIDTH", "HALFWIDTH"})
# language code → (name, scripts its letters may come from)
LANGUAGES: dict[str, tuple[str, frozenset[str]]] = {
    "en": ("English", frozenset({"LATIN"})),
    "fr": ("French", frozenset({"LATIN"})),
    "de": ("German", frozenset({"LATIN"})),
    "es": ("Spanish", frozenset({"LATIN"})),
    "it": ("Italian", frozenset({"LATIN"})),
    "pt": ("Portuguese", frozenset({"LATIN"})),
    "nl": ("Dutch", frozenset({"LATIN"})),
    "pl": ("Polish", frozenset({"LATIN"})),
    "sv": ("Swedish", frozenset({"LATIN"})),
    "tr": ("Turkish", frozenset({"LATIN"})),
    "ru": ("Russian", frozenset({"LATIN", "CYRILLIC"})),
    "uk": ("Ukrainian", frozenset({"LATIN", "CYRILLIC"})),
    "el": ("Greek", frozenset({"LATIN", "GREEK"})),
    "ar": ("Arabic", frozenset({"LATIN", "ARABIC"})),
    "he": ("Hebrew", frozenset({"LATIN", "HEBREW"})),
    "hi": ("Hindi", frozenset({"LATIN", "DEVANAGARI"})),
    "zh": ("Chinese", frozenset({"LATIN"}) | _EAST_ASIAN),
    "ja": ("Japanese", frozenset({"LATIN", "HIRAGANA", "KATAKANA"}) | _EAST_ASIAN),
    "ko": ("Korean", frozenset({"LATIN", "HANGUL"}) | _EAST_ASIAN),
}
DEFAULT_LANGUAGE = "en"

# Each script's code points, as GBNF character ranges: what the embedded model may write
# inside a JSON string (ai/providers/local.py). Every language also gets COMMON: printable
# ASCII but the quote and the backslash (escaped separately), Latin-1 and Latin Extended,
# combining marks, general punctuation (dashes, curly quotes, ellipsis), currency,
# letter-like symbols, arrows and mathematical operators.
COMMON_RANGES = (
    r"\x20-\x21\x23-\x5B\x5D-\x7E\u00A0-\u024F\u0300-\u036F\u1E00-\u1EFF"
    r"\u2000-\u206F\u20A0-\u20CF\u2100-\u214F\u2190-\u21FF\u2200-\u22FF"
)
SCRIPT_RANGES: dict[str, str] = {
    "LATIN": "",  # in COMMON_RANGES
    "CYRILLIC": r"\u0400-\u052F",
    "GREEK": r"\u0370-\u03FF\u1F00-\u1FFF",
    "ARABIC": r"\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF",
    "HEBREW": r"\u0590-\u05FF\uFB1D-\uFB4F",
    "DEVANAGARI": r"\u0900-\u097F",
    "HANGUL": r"\u1100-\u11FF\u3130-\u318F\uAC00-\uD7AF",
    "HIRAGANA": r"\u3040-\u309F",
    "KATAKANA": r"\u30A0-\u30FF\u31F0-\u31FF",
    "CJK": r"\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF",
    "IDEOGRAPHIC": r"\u3000-\u303F",
    "FULLWIDTH": r"\uFF00-\uFFEF",
    "HALFWIDTH": "",  # in FULLWIDTH's block
}


def char_ranges(language: str) -> str:
    """The GBNF character ranges a string of this language may use."""
    scripts = LANGUAGES.get(language, LANGUAGES[DEFAULT_LANGUAGE])[1]
    return COMMON_RANGES + "".join(SCRIPT_RANGES.get(s, "") for s in sorted(scripts))
