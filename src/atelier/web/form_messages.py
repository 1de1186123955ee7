"""What a page says when a form value is refused: pydantic's errors in plain words.

The models stay the one judge of what is valid (the API uses them too); this module only
words their verdict for people. ``plain_message`` reads an error's type, and its context
(the limit that was crossed) when there is one; an API 422 detail carries the type and the
message but no context, so the limit is then read back out of pydantic's message. A type
not known here keeps pydantic's own message, made a sentence. The API's JSON errors are
not translated (clients match on them).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

REQUIRED = "Required: please fill this in."
EMAIL_WITHOUT_AT = "Enter an email address with an @."
EMAIL_INVALID = "Enter an email address like name@example.com."
DATE = "Enter a date like 2026-12-07."

# Error types whose message does not depend on the value or a limit.
_FIXED: dict[str, str] = {
    "missing": REQUIRED,
    "int_type": "Enter a whole number.",
    "int_parsing": "Enter a whole number.",
    "int_from_float": "Enter a whole number.",
    "int_parsing_size": "Enter a smaller number.",
    "float_type": "Enter a number.",
    "float_parsing": "Enter a number.",
    "decimal_type": "Enter a number.",
    "decimal_parsing": "Enter a number.",
    "finite_number": "Enter a number.",
    "bool_type": "Choose yes or no.",
    "bool_parsing": "Choose yes or no.",
    "date_type": DATE,
    "date_parsing": DATE,
    "date_from_datetime_parsing": DATE,
    "date_from_datetime_inexact": DATE,
    "date_future": "Enter a date in the future.",
    "date_past": "Enter a date in the past.",
    "datetime_type": "Enter a date and time like 2026-12-07 14:30.",
    "datetime_parsing": "Enter a date and time like 2026-12-07 14:30.",
    "datetime_from_date_parsing": "Enter a date and time like 2026-12-07 14:30.",
    "datetime_object_invalid": "Enter a date and time like 2026-12-07 14:30.",
    "datetime_future": "Enter a date in the future.",
    "datetime_past": "Enter a date in the past.",
    "time_type": "Enter a time like 14:30.",
    "time_parsing": "Enter a time like 14:30.",
    "url_type": "Enter a web address like https://example.com.",
    "url_parsing": "Enter a web address like https://example.com.",
    "url_syntax_violation": "Enter a web address like https://example.com.",
    # Ids on a page come from a list (a select), so a bad one is a choice that is gone.
    "uuid_type": "Choose one of the options.",
    "uuid_parsing": "Choose one of the options.",
    "enum": "Choose one of the options.",
    "literal_error": "Choose one of the options.",
    "string_type": "Enter text.",
    "string_pattern_mismatch": "Not in the expected format.",
    "json_invalid": "Not valid JSON.",
    "extra_forbidden": "Not a field of this form.",
    "list_type": "Enter a list.",
}

# Error types about a limit: (sentence with {n} and {s} for a plural, the context key of n).
_LIMITS: dict[str, tuple[str, str]] = {
    "string_too_short": ("At least {n} character{s}.", "min_length"),
    "string_too_long": ("At most {n} character{s}.", "max_length"),
    "url_too_long": ("At most {n} character{s}.", "max_length"),
    "too_short": ("Add at least {n} item{s}.", "min_length"),
    "too_long": ("At most {n} item{s}.", "max_length"),
    "greater_than_equal": ("Enter {n} or more.", "ge"),
    "greater_than": ("Enter a number above {n}.", "gt"),
    "less_than_equal": ("Enter {n} or less.", "le"),
    "less_than": ("Enter a number below {n}.", "lt"),
    "multiple_of": ("Enter a multiple of {n}.", "multiple_of"),
    "decimal_max_digits": ("At most {n} digit{s}.", "max_digits"),
    "decimal_max_places": ("At most {n} decimal place{s}.", "decimal_places"),
    "decimal_whole_digits": ("At most {n} digit{s} before the decimal point.", "whole_digits"),
}

# The limit inside pydantic's own wording ("should have at most 200 characters",
# "greater than or equal to 0", "no more than 2 decimal places").
_LIMIT_IN_TEXT = re.compile(r"(?:at least|at most|than|equal to|multiple of) (-?\d+(?:\.\d+)?)\b")
# pydantic's prefixes for errors raised by a model's own validators.
_VALIDATOR_PREFIXES = ("Value error, ", "Assertion failed, ")
# EmailStr's error is a value_error whose message starts so (its reason follows).
_EMAIL_ERROR = "value is not a valid email address"


def plain_message(
    kind: str, message: str, ctx: Mapping[str, Any] | None = None, given: Any = None
) -> str:
    """An error in plain words: ``kind`` is pydantic's error type, ``message`` its text,
    ``ctx`` its context (None from an API detail) and ``given`` the refused value."""
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == "string_too_short" and (_blank(given) or _limit(ctx, "min_length", message) == 1):
        return REQUIRED  # "at least 1 character" of nothing typed is a required field
    if kind in _LIMITS:
        text, key = _LIMITS[kind]
        limit = _limit(ctx, key, message)
        if limit is not None:
            return text.format(n=_number_text(limit), s="" if limit == 1 else "s")
    if kind == "url_scheme":
        schemes = re.findall(r"'(\w+)'", message) or ["https"]
        return "Enter a web address starting with " + " or ".join(f"{s}://" for s in schemes) + "."
    if message.startswith(_EMAIL_ERROR):
        return EMAIL_WITHOUT_AT if message.endswith("must have an @-sign.") else EMAIL_INVALID
    return _sentence(message)


def plain_error(problem: ErrorDetails | Mapping[str, Any]) -> str:
    """One entry of ``ValidationError.errors()`` in plain words."""
    return plain_message(
        str(problem.get("type", "")),
        str(problem.get("msg", "")),
        problem.get("ctx"),
        problem.get("input"),
    )


def top_field(loc: tuple[int | str, ...]) -> str:
    """The form field an error is about: the first part of its location; "form" for an
    error about the whole model."""
    return str(loc[0]) if loc else "form"


def field_errors(
    error: ValidationError, where: Callable[[tuple[int | str, ...]], str] = top_field
) -> dict[str, str]:
    """A model's errors in plain words by form field, the first one of each field (one
    message next to a field is read; three are skimmed)."""
    errors: dict[str, str] = {}
    for problem in error.errors():
        errors.setdefault(where(tuple(problem["loc"])), plain_error(problem))
    return errors


def _limit(ctx: Mapping[str, Any] | None, key: str, message: str) -> float | None:
    value = (ctx or {}).get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    found = _LIMIT_IN_TEXT.search(message)
    return float(found.group(1)) if found else None


def _number_text(value: float) -> str:
    """3600, not 3600.0; 0.5 stays 0.5."""
    return str(int(value)) if float(value).is_integer() else str(value)


def _blank(value: Any) -> bool:
    return isinstance(value, str) and not value.strip()


def _sentence(message: str) -> str:
    """pydantic's (or a validator's) message as a sentence: its prefix dropped, a capital
    first letter (not on a field name such as ``base_url``), a full stop."""
    for prefix in _VALIDATOR_PREFIXES:
        message = message.removeprefix(prefix)
    message = message.strip()
    if not message:
        return "This value is not valid."
    first = message.split(" ", 1)[0]
    if first.isalpha():
        message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
