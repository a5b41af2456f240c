"""Side-by-side differences between two wordings of a page, line by line (difflib).

Long pages repeat many lines (blank lines, list markers), which makes difflib's matcher slow, so
both wordings are first cut at the lines that occur once in each and in the same order (the
anchors of a "patience" diff); difflib then compares only the short stretches between anchors.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
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


def _anchors(old: list[str], new: list[str]) -> list[tuple[int, int]]:
    """(old index, new index) of lines unique in both, the longest run in the same order."""
    old_counts, new_counts = Counter(old), Counter(new)
    where_new = {line: j for j, line in enumerate(new) if new_counts[line] == 1}
    pairs = [
        (i, where_new[line])
        for i, line in enumerate(old)
        if old_counts[line] == 1 and line in where_new
    ]
    # Longest increasing run of new indexes (patience sorting), kept with back links.
    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for index, (_i, j) in enumerate(pairs):
        place = bisect_left(tails, j)
        if place:
            back[index] = tail_at[place - 1]
        if place == len(tails):
            tails.append(j)
            tail_at.append(index)
        else:
            tails[place] = j
            tail_at[place] = index
    chain = []
    index = tail_at[-1] if tail_at else -1
    while index != -1:
        chain.append(pairs[index])
        index = back[index]
    return chain[::-1]


def _opcodes(old: list[str], new: list[str]):
    """difflib opcodes, computed between anchors."""
    i = j = 0
    for anchor_i, anchor_j in [*_anchors(old, new), (len(old), len(new))]:
        matcher = SequenceMatcher(None, old[i:anchor_i], new[j:anchor_j], autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            yield tag, i + i1, i + i2, j + j1, j + j2
        if anchor_i < len(old):
            yield "equal", anchor_i, anchor_i + 1, anchor_j, anchor_j + 1
        i, j = anchor_i + 1, anchor_j + 1


def side_by_side(old: list[str], new: list[str]) -> list[DiffRow]:
    """Every line of both wordings, paired where they correspond."""
    rows: list[DiffRow] = []
    for tag, i1, i2, j1, j2 in _opcodes(old, new):
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
