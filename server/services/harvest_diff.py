"""Side-by-side differences between two wordings of a page, line by line (difflib)."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import zip_longest


@dataclass(frozen=True)
class DiffRow:
    """One row of a side-by-side diff; a side is None where that wording has no line."""

    kind: str  # "same", "changed", "removed" or "added"
    left_number: int | None
    left: str | None
    right_number: int | None
    right: str | None


def wording_lines(title: str, summary: str, body: str) -> list[str]:
    """What is compared: the title, the summary and the body, as lines."""
    return [f"# {title}", "", *summary.splitlines(), "", *body.splitlines()]


def side_by_side(old: list[str], new: list[str]) -> list[DiffRow]:
    """Every line of both wordings, paired where they correspond."""
    rows: list[DiffRow] = []
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows.extend(
                DiffRow("same", i + 1, old[i], j + 1, new[j])
                for i, j in zip(range(i1, i2), range(j1, j2), strict=True)
            )
            continue
        for i, j in zip_longest(range(i1, i2), range(j1, j2)):
            kind = (
                "changed"
                if i is not None and j is not None
                else "removed"
                if j is None
                else "added"
            )
            rows.append(
                DiffRow(
                    kind,
                    None if i is None else i + 1,
                    None if i is None else old[i],
                    None if j is None else j + 1,
                    None if j is None else new[j],
                )
            )
    return rows


def changed_only(rows: list[DiffRow], context: int = 2) -> list[DiffRow | None]:
    """The changed rows with `context` rows around them; None marks skipped lines."""
    keep = set()
    for index, row in enumerate(rows):
        if row.kind != "same":
            keep.update(range(max(0, index - context), min(len(rows), index + context + 1)))
    shown: list[DiffRow | None] = []
    for index, row in enumerate(rows):
        if index in keep:
            shown.append(row)
        elif shown and shown[-1] is not None:
            shown.append(None)
    return shown
