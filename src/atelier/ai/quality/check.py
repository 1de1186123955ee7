"""The checks on one answer, what a tool may declare about its fields, and the report."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from atelier.ai.quality import rules
from atelier.ai.quality.walk import Schema
from atelier.core.languages import DEFAULT_LANGUAGE

RULES_VERSION = 4


@dataclass(frozen=True, slots=True)
class QualitySpec:
    """What a tool says about its output fields (paths with blank list positions, e.g.
    ``"value_map.pain_relievers[].reliever"``).

    ``transforms``: (field, source) pairs where the field must say something of its own
    about its source, not copy it; the source is ``"inputs.<path>"`` or ``"output.<path>"``.
    ``quoted``: fields meant to quote the user's text or the prompt verbatim (not checked
    for echoes). ``skipped``: fields no rule looks at.
    """

    transforms: tuple[tuple[str, str], ...] = ()
    quoted: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    path: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"rule": self.rule, "path": self.path, "message": self.message}


@dataclass(slots=True)
class Report:
    findings: list[Finding] = field(default_factory=list)
    checked: int = 0  # strings looked at

    @property
    def score(self) -> float:
        """The share of checked strings with no finding: 1.0 when nothing was found."""
        flagged = {f.path for f in self.findings}
        return round(1 - len(flagged) / self.checked, 2) if self.checked else 1.0

    @property
    def needs_repair(self) -> bool:
        return bool(self.findings)

    def better_than(self, other: Report) -> bool:
        return len(self.findings) < len(other.findings)

    def as_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "checked": self.checked,
            "rules_version": RULES_VERSION,
            "findings": [f.as_json() for f in self.findings],
        }


def check_answer(
    output: dict[str, Any],
    *,
    schema: Schema,
    inputs: dict[str, Any],
    prompt: Iterable[str],
    context: Any = None,
    spec: QualitySpec | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> Report:
    """Every rule over ``output``. ``prompt`` is the text the model was given (system and
    user messages); ``inputs`` and ``context`` are what it was given to work from, which
    an answer may repeat without echoing the instructions."""
    spec = spec or QualitySpec()
    facts = rules.Facts.build(
        output=output,
        schema=schema,
        inputs=inputs,
        context=context,
        prompt="\n".join(prompt),
        spec=spec,
        language=language,
    )
    findings: list[Finding] = []
    for rule in rules.ALL:
        findings.extend(Finding(*found) for found in rule(facts))
    # One finding per field and rule, in answer order.
    order = {path: i for i, path in enumerate(facts.string_paths)}
    unique = {(f.path, f.rule): f for f in findings}
    ordered = sorted(unique.values(), key=lambda f: (order.get(f.path, len(order)), f.rule))
    return Report(findings=ordered, checked=len(facts.strings))
