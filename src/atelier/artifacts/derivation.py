"""How a new artifact is derived from an existing one by smart-populate (seed 000's
"edit inputs", "continue from results", "merge & enhance"): the modes, and the job kind
that carries them out (its handler is the AI engine's, ``ai/smart_populate.py``)."""

from __future__ import annotations

import enum

from atelier.artifacts.models import Derivation

JOB_KIND = "smart_populate"


class Mode(enum.StrEnum):
    EDIT_INPUTS = "edit_inputs"
    CONTINUE_FROM_RESULTS = "continue_from_results"
    MERGE_ENHANCE = "merge_enhance"

    @property
    def derivation(self) -> Derivation:
        return {
            Mode.EDIT_INPUTS: Derivation.EDITED_INPUTS,
            Mode.CONTINUE_FROM_RESULTS: Derivation.CONTINUED,
            Mode.MERGE_ENHANCE: Derivation.MERGED,
        }[self]

    @property
    def uses_ai(self) -> bool:
        return self is not Mode.EDIT_INPUTS

    @property
    def explanation(self) -> str:
        return {
            Mode.EDIT_INPUTS: "Load the original inputs into the form, unchanged.",
            Mode.CONTINUE_FROM_RESULTS: "AI turns the results into a richer starting input.",
            Mode.MERGE_ENHANCE: "AI combines the original inputs and the results into the "
            "best starting input.",
        }[self]
