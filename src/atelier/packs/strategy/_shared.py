"""Field types the strategy tools share.

Inputs are what a person types into a form; outputs are what a (possibly small, local)
model writes under a grammar, so every output string and list is bounded.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

# -- inputs ---------------------------------------------------------------------------------
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Item = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]

# -- outputs --------------------------------------------------------------------------------
# One line: a label, a list entry, a metric.
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
# A few sentences at most.
Paragraph = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]

Level = Literal["high", "medium", "low"]
