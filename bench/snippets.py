"""Snippet benchmark: how long the search page's snippets and highlighted titles take.

A search page shows 20 hits, each with a snippet of its body around the best cluster of
matching words and a highlighted title; the work is pure Python on the event loop, so a slow
snippet stalls every request the process serves. Bodies: a reply of about 70 words, a long
reply of about 700, and a document's extracted text scanned to the 60,000-character limit.

    python bench/snippets.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import time

import checkout  # noqa: F401  (this checkout's code before an installed copnet)

from models.text_analysis import mark_all, parse_query, snippet_html

SENTENCE = (
    "The ward team met on Tuesday to review the discharge planning checklist; nurses said "
    "the pressure ulcer audit took longer than planned. "
)
BODIES = {
    "reply, ~70 words": SENTENCE * 3,
    "long reply, ~700 words": SENTENCE * 30,
    "document, 60,000 characters scanned": SENTENCE * 600,
}
TITLE = "Discharge planning on the ward: what we learned from the pressure ulcer audit"
QUERIES = ["ward", "discharge planning", '"pressure ulcer"', "audit -tuesday"]


def timed(call, repeat: int) -> float:
    """Median of `repeat` calls, in microseconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200, help="calls per figure (200)")
    args = parser.parse_args()
    print(f"{'text':50} {'query':22} {'median us':>10}")
    for query in QUERIES:
        terms = parse_query(query).highlight
        for label, body in BODIES.items():
            snippet_html(body, terms)  # warm the word cache, as a running server has it
            repeat = max(5, args.rounds // (1 + len(body) // 5_000))
            figure = timed(lambda body=body, terms=terms: snippet_html(body, terms), repeat)
            print(f"{'snippet of a ' + label:50} {query:22} {figure:10.1f}")
        figure = timed(lambda terms=terms: mark_all(TITLE, terms), args.rounds)
        print(f"{'highlighted title':50} {query:22} {figure:10.1f}")
    terms = parse_query("discharge planning").highlight
    page = timed(lambda: [snippet_html(BODIES["reply, ~70 words"], terms) for _ in range(20)], 50)
    print(f"\na page of 20 replies' snippets: {page / 1000:.2f} ms")


if __name__ == "__main__":
    main()
