"""The side-by-side diff and the rendering of harvested quotes (no database)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from models.harvest import SOURCE_CHANGED, SOURCE_WITHDRAWN, PageSource
from server.services.harvest_diff import changed_only, side_by_side
from server.services.harvest_render import render_page


def test_every_line_of_both_sides_is_shown_once_in_order():
    rng = random.Random(7)
    for _ in range(300):
        old = [rng.choice(["a", "b", "c", "", "- item"]) for _ in range(rng.randint(0, 40))]
        new = [rng.choice(["a", "b", "d", "", "- item"]) for _ in range(rng.randint(0, 40))]
        rows = side_by_side(old, new)
        assert [row.left for row in rows if row.left is not None] == old
        assert [row.right for row in rows if row.right is not None] == new
        for row in rows:
            if row.kind == "same":
                assert row.left == row.right


def test_a_changed_line_is_paired_and_unchanged_lines_are_folded():
    old = ["# Title", "", *[f"line {n}" for n in range(30)]]
    new = list(old)
    new[10] = "line eight, rewritten"
    new.append("a new last line")
    rows = side_by_side(old, new)
    changed = [row for row in rows if row.kind != "same"]
    assert [(row.kind, row.left, row.right) for row in changed] == [
        ("changed", "line 8", "line eight, rewritten"),
        ("added", None, "a new last line"),
    ]
    folded = changed_only(rows)
    assert None in folded and len(folded) < len(rows)


def source(source_id: int, **fields) -> PageSource:
    values = {
        "id": source_id,
        "page_id": 1,
        "post_url": "https://copnet.test/p/4",
        "author_name": "Kim *the* nurse",
        "author_handle": "@kim@copnet.test",
        "community_name": "Wound Care",
        "posted_at": datetime(2026, 3, 1, tzinfo=UTC),
        "quote": "Turn every **two** hours.\n\n<script>alert(1)</script>",
        "state": "current",
    }
    values.update(fields)
    return PageSource(**values)


def test_quotes_render_with_provenance_and_never_carry_markup_or_other_pages_sources():
    html = render_page("Intro\n\n[[source:1]]\n\n[[source:99]]", [source(1)])
    assert "<blockquote>" in html and "<strong>two</strong>" in html
    assert "<strong>Kim *the* nurse</strong> (@kim@copnet.test)" in html
    assert 'href="https://copnet.test/p/4"' in html and "01 Mar 2026" in html
    assert "<script>" not in html
    assert "A source of this page is missing." in html  # 99 is not this page's


def test_changed_and_withdrawn_quotes_say_so():
    changed = render_page("[[source:1]]", [source(1, state=SOURCE_CHANGED)])
    assert "edited by its author since it was harvested" in changed
    withdrawn = render_page("[[source:1]]", [source(1, state=SOURCE_WITHDRAWN, quote="")])
    assert "A source was withdrawn by its author." in withdrawn and "Kim" not in withdrawn
