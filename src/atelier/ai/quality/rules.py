"""The rules. Each reads the prepared ``Facts`` and yields (rule, field path, message).

The messages are for the person reading the draft and for the model asked to repair it,
so they say what is wrong in plain words and quote a little of the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import TYPE_CHECKING, Any

from atelier.ai.quality.scripts import off_script
from atelier.ai.quality.text import ngrams, normalized, similarity, words
from atelier.ai.quality.walk import (
    Leaf,
    Schema,
    descriptions,
    item_text,
    leaves,
    path_text,
    pattern_text,
    property_names,
    resolve,
    strings_in,
)
from atelier.core.languages import LANGUAGES

if TYPE_CHECKING:
    from atelier.ai.quality.check import QualitySpec

Found = tuple[str, str, str]

ECHO_N = 4  # word n-grams compared with the instructions
ECHO_SHARE = 0.5  # of a string's n-grams found in the instructions: an echo
EXAMPLE_MIN_WORDS = 4  # a whole string found in the prompt, at least this long: a copy
# A text repeated in another field, at least this long: a sentence, not a name or a
# metric that rightly stands in two places ("Completed loans per week").
REPEATED_MIN_WORDS = 6
SAME = 0.9  # similarity of two list items that makes them the same item
COPIED = 0.85  # similarity of a field to its source that makes it a copy
# Filler no answer means as content. Words that are also identifiers or values ("string",
# "name", "none") are not here: a data model's field type is rightly "string".
PLACEHOLDERS = frozenset(
    {
        "tbd", "tba", "todo", "to do", "n a", "placeholder", "xxx", "lorem ipsum",
        "insert here", "fill in", "sample text", "example text", "your text here",
    }
)  # fmt: skip
# Small words a near-duplicate may add or drop ("the app" / "app").
_STOPWORDS = frozenset({"a", "an", "the", "of", "and", "to", "in", "for", "on", "with"})
# Words just before a passage of the prompt that make it an example ("e.g." normalises to
# "e g").
_EXAMPLE_MARKERS = frozenset({"e", "g", "eg", "example", "examples", "instance", "like", "such"})
_LOREM = re.compile(r"\blorem ipsum\b", re.IGNORECASE)


def _excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return f"“{text[:limit]}…”" if len(text) > limit else f"“{text}”"


def _instructions_only(prompt: str, given: list[str]) -> list[str]:
    """The prompt cut where it quotes what the user gave (inputs, earlier stages): the
    pieces left are the instructions. A prompt renders {"method": "POST", "path":
    "/tasks"} as "POST /tasks"; repeating that in an answer is not an echo."""
    pieces = [prompt]
    for text in sorted({g.strip() for g in given if len(g.strip()) >= 3}, key=len, reverse=True):
        pieces = [part for piece in pieces for part in piece.split(text)]
    return pieces


@dataclass(slots=True)
class Facts:
    """The answer's strings and lists, and what it may and may not repeat."""

    output: dict[str, Any]
    inputs: dict[str, Any]
    schema: Schema
    spec: QualitySpec
    language: str
    strings: list[Leaf]
    lists: list[Leaf]
    string_paths: list[str]
    instructions: list[str]  # the prompt's own text, normalised, cut where it quotes input
    given_text: str  # normalised inputs and context
    echo_grams: set[tuple[str, ...]]
    property_names: frozenset[str]

    @classmethod
    def build(
        cls,
        *,
        output: dict[str, Any],
        schema: Schema,
        inputs: dict[str, Any],
        context: Any,
        prompt: str,
        spec: QualitySpec,
        language: str,
    ) -> Facts:
        skipped = set(spec.skipped)
        strings: list[Leaf] = []
        lists: list[Leaf] = []
        for leaf in leaves(output, schema):
            if pattern_text(leaf.path) in skipped:
                continue
            if isinstance(leaf.value, str) and "enum" not in leaf.schema:
                if "const" not in leaf.schema and leaf.schema.get("format") is None:
                    strings.append(leaf)
            elif isinstance(leaf.value, list) and len(leaf.value) > 1:
                lists.append(leaf)
        raw_given = [*strings_in(inputs), *strings_in(context)]
        given = [normalized(s) for s in raw_given]
        given_grams: set[tuple[str, ...]] = set()
        for text in given:
            given_grams |= ngrams(text.split(), ECHO_N)
        instructions = [normalized(p) for p in _instructions_only(prompt, raw_given)]
        echo: set[tuple[str, ...]] = set()
        for piece in instructions:
            echo |= ngrams(piece.split(), ECHO_N)
        for text in descriptions(schema):
            echo |= ngrams(words(text), ECHO_N)
        return cls(
            output=output,
            inputs=inputs,
            schema=schema,
            spec=spec,
            language=language,
            strings=strings,
            lists=lists,
            string_paths=[path_text(leaf.path) for leaf in strings],
            instructions=[piece for piece in instructions if piece],
            given_text="\n".join(given),
            echo_grams=echo - given_grams,
            property_names=frozenset(property_names(schema)),
        )

    def find_in_instructions(self, text: str) -> tuple[str, int] | None:
        """Where ``text`` (normalised) stands whole in the prompt's own text, if it does."""
        for piece in self.instructions:
            where = f" {piece} ".find(f" {text} ")
            if where >= 0:
                return piece, where
        return None

    def echo_checked(self) -> Iterator[Leaf]:
        quoted = set(self.spec.quoted)
        return (leaf for leaf in self.strings if pattern_text(leaf.path) not in quoted)


def copied_from_prompt(facts: Facts) -> Iterator[Found]:
    """A whole answer string that stands in the prompt but not in what the user gave:
    an example copied (the prompt says "e.g." just before it) or an instruction."""
    for leaf in facts.echo_checked():
        text = normalized(leaf.value)
        if len(text.split()) < EXAMPLE_MIN_WORDS or text in facts.given_text:
            continue
        found = facts.find_in_instructions(text)
        if found is None:
            continue
        piece, where = found
        before = set(piece[:where].split()[-4:])
        if before & _EXAMPLE_MARKERS:
            yield (
                "example_copy",
                path_text(leaf.path),
                f"{_excerpt(leaf.value)} is the prompt's example, not written for this project.",
            )
        else:
            yield (
                "instruction_echo",
                path_text(leaf.path),
                f"{_excerpt(leaf.value)} repeats the instructions instead of answering them.",
            )


def instruction_echo(facts: Facts) -> Iterator[Found]:
    """Most of the string's word n-grams come from the instructions or the schema's
    descriptions (and not from the user's input)."""
    for leaf in facts.echo_checked():
        grams = ngrams(words(leaf.value), ECHO_N)
        if not grams:
            continue
        share = len(grams & facts.echo_grams) / len(grams)
        if share >= ECHO_SHARE:
            if facts.find_in_instructions(normalized(leaf.value)) is not None:
                continue  # a whole copy: copied_from_prompt says so
            yield (
                "instruction_echo",
                path_text(leaf.path),
                f"{_excerpt(leaf.value)} repeats the instructions instead of answering them.",
            )


def _sources(facts: Facts, pattern: str) -> list[str]:
    where, _, path = pattern.partition(".")
    data = facts.inputs if where == "inputs" else facts.output
    wanted = path or ""
    found = []
    for leaf in leaves(data, {}):
        if isinstance(leaf.value, str) and pattern_text(leaf.path) == wanted:
            found.append(normalized(leaf.value))
    return [text for text in found if text]


def input_parroting(facts: Facts) -> Iterator[Found]:
    """A field the tool says must transform its source, that copies it instead."""
    for field, source in facts.spec.transforms:
        sources = _sources(facts, source)
        for leaf in facts.strings:
            if pattern_text(leaf.path) != field:
                continue
            text = normalized(leaf.value)
            if text and any(similarity(text, s) >= COPIED for s in sources):
                yield (
                    "input_parroting",
                    path_text(leaf.path),
                    f"{_excerpt(leaf.value)} copies {source.partition('.')[2]} instead of "
                    "saying how it answers it.",
                )


def same_item(a: str, b: str) -> bool:
    """Two normalised items say the same thing: equal, or different only by small edits
    inside words ("app"/"apps") and small words added or dropped, never by a word that
    changes the meaning ("GET /tasks" and "POST /tasks" are two items)."""
    if a == b:
        return True
    if not a or not b or similarity(a, b) < SAME:
        return False
    left, right = a.split(), b.split()
    for op, i1, i2, j1, j2 in SequenceMatcher(None, left, right, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        if op == "replace" and i2 - i1 == j2 - j1:
            pairs = zip(left[i1:i2], right[j1:j2], strict=True)
            if all(similarity(x, y) >= 0.75 for x, y in pairs):
                continue
            return False
        if not set(left[i1:i2] + right[j1:j2]) <= _STOPWORDS:
            return False
    return True


def duplicates(facts: Facts) -> Iterator[Found]:
    """List items that say the same thing (case, punctuation and small edits aside). Two
    objects also count when their written text is the same and long enough to mean
    something, whatever their choices say: three "how might we" questions, word for word,
    rated narrow, balanced and broad, are one question."""
    for leaf in facts.lists:
        items = resolve(leaf.schema.get("items") or {}, facts.schema)
        seen: list[tuple[str, str]] = []
        for index, item in enumerate(leaf.value):
            text = normalized(item_text(item))
            written = normalized(item_text(item, items, facts.schema, choices=False))
            first = next(
                (
                    i
                    for i, (s, w) in enumerate(seen)
                    if (s and same_item(s, text))
                    or (len(w.split()) >= EXAMPLE_MIN_WORDS and w == written)
                ),
                None,
            )
            seen.append((text, written))
            if text and first is not None:
                yield (
                    "duplicate",
                    path_text((*leaf.path, index)),
                    f"Item {index + 1} repeats item {first + 1}.",
                )


def repeated_elsewhere(facts: Facts) -> Iterator[Found]:
    """The same sentence in two different fields (success criteria that repeat the
    evidence): each field should say something of its own. Short texts (names, metrics)
    and fields meant to quote others are left alone; the later field is the one flagged."""
    # Quotes may repeat; a declared transform that copies is input_parroting's to say.
    quoted = set(facts.spec.quoted) | {field for field, _ in facts.spec.transforms}
    seen: dict[str, tuple[str, str]] = {}  # normalised text -> (pattern, path)
    for leaf in facts.strings:
        pattern = pattern_text(leaf.path)
        text = normalized(leaf.value)
        if pattern in quoted or len(text.split()) < REPEATED_MIN_WORDS:
            continue
        earlier = seen.get(text)
        if earlier is not None and earlier[0] != pattern:
            yield (
                "repeated",
                path_text(leaf.path),
                f"{_excerpt(leaf.value)} repeats {earlier[1]}; say something of its own here.",
            )
        seen.setdefault(text, (pattern, path_text(leaf.path)))


def foreign_script(facts: Facts) -> Iterator[Found]:
    name = LANGUAGES.get(facts.language, LANGUAGES["en"])[0]
    for leaf in facts.strings:
        chars = off_script(leaf.value, facts.language)
        if chars:
            shown = "".join(chars[:8])
            yield (
                "off_script",
                path_text(leaf.path),
                f"Has characters that are not {name} writing: {shown}",
            )


def json_fragment(facts: Facts) -> Iterator[Found]:
    """Pieces of the answer's own JSON written as text ("success_criteria]: ["): the
    model lost its place in the structure. A field name of the schema followed by a
    colon and an opening bracket or quote gives it away."""
    names = "|".join(sorted(map(re.escape, facts.property_names), key=len, reverse=True))
    if not names:
        return
    pattern = re.compile(rf"(?:^|[^\w])(?:{names})[\"'\]]*\s*:\s*[\[{{\"]")
    for leaf in facts.strings:
        if pattern.search(leaf.value):
            yield (
                "json_fragment",
                path_text(leaf.path),
                f"{_excerpt(leaf.value)} holds a piece of the answer's structure, not text.",
            )


def no_words(facts: Facts) -> Iterator[Found]:
    """Text of punctuation only (":{" for a customer segment): a model filling the shape
    without meaning. Numbers are left alone: "12" is a good baseline, and only the
    field's meaning could tell that "10-25" is no customer job. Fields with a pattern
    are left alone; blanks and "..." are placeholder's."""
    for leaf in facts.strings:
        value = leaf.value.strip()
        if not value or "pattern" in leaf.schema or value in ("...", "…", "-", "--", "?"):
            continue
        if not any(char.isalnum() for char in value):
            yield (
                "no_words",
                path_text(leaf.path),
                f"{_excerpt(leaf.value)} has no words: write what it means.",
            )


def placeholder(facts: Facts) -> Iterator[Found]:
    for leaf in facts.strings:
        text = normalized(leaf.value)
        if leaf.value and not leaf.value.strip():
            yield ("placeholder", path_text(leaf.path), "Blank: there is nothing written here.")
        elif not text and leaf.value.strip() in ("...", "…", "-", "--", "?"):
            yield ("placeholder", path_text(leaf.path), "A placeholder, not content.")
        elif text in PLACEHOLDERS or _LOREM.search(leaf.value):
            yield (
                "placeholder",
                path_text(leaf.path),
                f"{_excerpt(leaf.value)} is a placeholder, not content.",
            )


def cut_off(facts: Facts) -> Iterator[Found]:
    """A string as long as its schema allows: the model most likely ran into the limit."""
    for leaf in facts.strings:
        limit = leaf.schema.get("maxLength")
        if isinstance(limit, int) and limit >= 20 and len(leaf.value) >= limit - 1:
            yield (
                "cut_off",
                path_text(leaf.path),
                f"Stops at the {limit}-character limit, probably mid-sentence.",
            )


ALL: tuple[Callable[[Facts], Iterator[Found]], ...] = (
    copied_from_prompt,
    instruction_echo,
    input_parroting,
    duplicates,
    repeated_elsewhere,
    foreign_script,
    json_fragment,
    no_words,
    placeholder,
    cut_off,
)
