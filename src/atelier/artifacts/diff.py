"""Line diff between two versions' texts, as rows a page can show in a table.

Both the artifact comparison and the pipeline stage comparison show changes the same way:
old and new line numbers, added and removed lines, and a gap row for unchanged lines left
out. The texts come in as lines; what a "line" is (the document, its JSON) is the
caller's choice.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

# Lines of unchanged text kept around each change in a diff.
DIFF_CONTEXT = 3


@dataclass(frozen=True, slots=True)
class DiffRow:
    kind: str  # "same", "add", "del" or "gap" (unchanged lines left out)
    old: int | None
    new: int | None
    text: str


def diff_rows(old: list[str], new: list[str], context: int = DIFF_CONTEXT) -> list[DiffRow]:
    """Line changes from ``old`` to ``new`` with ``context`` unchanged lines around each;
    a "gap" row stands for the unchanged lines left out. No rows: the texts are equal."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    rows: list[DiffRow] = []
    end_old = end_new = 0
    for group in matcher.get_grouped_opcodes(context):
        if group[0][1] > end_old or group[0][3] > end_new:
            rows.append(DiffRow("gap", None, None, "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                rows.extend(
                    DiffRow("same", i1 + k + 1, j1 + k + 1, old[i1 + k]) for k in range(i2 - i1)
                )
                continue
            rows.extend(DiffRow("del", i + 1, None, old[i]) for i in range(i1, i2))
            rows.extend(DiffRow("add", None, j + 1, new[j]) for j in range(j1, j2))
        end_old, end_new = group[-1][2], group[-1][4]
    if rows and (end_old < len(old) or end_new < len(new)):
        rows.append(DiffRow("gap", None, None, "…"))
    return rows if any(r.kind in ("add", "del") for r in rows) else []
