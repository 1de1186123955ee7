"""The embedded model's grammar keeps every JSON string to the project language's scripts:
llama.cpp's own grammar sampler, given candidate tokens inside a string, rules out a CJK
character for an English project and allows it for a Japanese one."""

from __future__ import annotations

import ctypes
import json
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (make test does)")

import llama_cpp
from llama_cpp import Llama

from atelier.ai.providers.local import (
    _grammar,
    grammar_parses,
    grammar_schema,
    restrict_strings,
)
from atelier.ai.tools import load_tools

SCHEMA = json.dumps(
    {
        "type": "object",
        "properties": {"pain": {"type": "string", "maxLength": 40}},
        "required": ["pain"],
        "additionalProperties": False,
    }
)


@pytest.fixture(scope="module")
def llama(tiny_model: Path) -> Llama:
    return Llama(model_path=str(tiny_model), n_ctx=256, verbose=False)


def allowed(llama: Llama, grammar_text: str, prefix: str, candidates: list[str]) -> dict[str, bool]:
    """Which of the candidates' first tokens the grammar sampler lets through after the
    model has written ``prefix`` (accepted token by token, as in generation)."""
    vocab = llama_cpp.llama_model_get_vocab(llama.model)
    sampler = llama_cpp.llama_sampler_init_grammar(vocab, grammar_text.encode(), b"root")
    assert sampler, "llama.cpp did not parse the grammar"
    try:
        for token in llama.tokenize(prefix.encode(), add_bos=False, special=False):
            llama_cpp.llama_sampler_accept(sampler, token)
        tokens = [llama.tokenize(c.encode(), add_bos=False, special=False)[0] for c in candidates]
        cells = [llama_cpp.llama_token_data(t, 0.0, 0.0) for t in tokens]
        array = (llama_cpp.llama_token_data * len(cells))(*cells)
        data = llama_cpp.llama_token_data_array(array, len(cells), -1, False)
        llama_cpp.llama_sampler_apply(sampler, ctypes.byref(data))
        return {c: array[i].logit != float("-inf") for i, c in enumerate(candidates)}
    finally:
        llama_cpp.llama_sampler_free(sampler)


def grammar_text(language: str | None) -> Any:
    grammar, exact = _grammar(SCHEMA, language)
    assert exact
    return grammar._grammar


def test_an_english_grammar_refuses_a_cjk_character(llama: Llama) -> None:
    prefix = '{"pain": "renters fear'
    english = allowed(llama, grammar_text("en"), prefix, ["使", "x", "é", "—"])
    assert english == {"使": False, "x": True, "é": True, "—": True}
    # The same prefix under the unrestricted grammar, and under a Japanese project's.
    assert allowed(llama, grammar_text(None), prefix, ["使"]) == {"使": True}
    assert allowed(llama, grammar_text("ja"), prefix, ["使", "x"]) == {"使": True, "x": True}
    # Cyrillic: allowed in Russian, not in English.
    assert allowed(llama, grammar_text("ru"), prefix, ["ж"]) == {"ж": True}
    assert allowed(llama, grammar_text("en"), prefix, ["ж"]) == {"ж": False}


def test_no_unicode_escape_can_spell_another_script(llama: Llama) -> None:
    """A JSON \\u escape could write any character: the restricted rule has none."""
    text = grammar_text("en")
    assert allowed(llama, text, '{"pain": "fear\\', ["u", "n"]) == {"u": False, "n": True}
    assert '"u"' not in next(line for line in text.splitlines() if line.startswith("char ::="))


def test_every_tools_restricted_grammar_parses(llama: Llama) -> None:
    for tool in load_tools().all():
        schema = json.dumps(grammar_schema(tool.output_schema()))
        for language in ("en", "ru", "ja"):
            grammar, exact = _grammar(schema, language)
            assert exact and grammar_parses(llama, grammar._grammar), (tool.key, language)


def test_only_the_string_character_rule_changes() -> None:
    base = (
        'root ::= "x"\nchar ::= [^"\\\\] | "\\\\" (["\\\\/bfnrt] | "u" [0-9a-fA-F])\nspace ::= " "?'
    )
    lines = restrict_strings(base, "en").splitlines()
    assert lines[0] == 'root ::= "x"' and lines[2] == 'space ::= " "?'
    assert lines[1].startswith("char ::= [\\x20-\\x21\\x23-\\x5B\\x5D-\\x7E")
