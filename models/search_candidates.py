"""The newest matches of a parsed query with their rank, on SQLite (FTS5) and PostgreSQL.

Every term reaching MATCH or tsquery syntax is `[a-z0-9]` and quoted (`fts5_expression`,
`tsquery_literal`), so no user text is ever query syntax. Relevance is computed over at most
MAX_CANDIDATES matches, the newest ones: ranking every match of a common word ("care") means
reading every matching row, hundreds of ms per query at a million posts. Both engines rank the
same set (their ranks differ: PostgreSQL `ts_rank_cd`, SQLite `bm25`, title words triple).

PostgreSQL finds the newest matches one of two ways, chosen per query from the share of
matches among DENSITY_SAMPLE entries spread over the newest DENSITY_SPAN: at WALK_DENSITY or
more (from two sampled matches, or one within a CoP), walking entries newest first and
testing each, which should reach the candidates within SCAN_BUDGET entries (a walk that does
not stops there); otherwise, or after such a walk,
through the GIN index: first on the pages of the newest entries that should hold the
candidates at the sampled share (with a block range index on `published`), then, if too few
were there, reading every match and sorting them. Left to itself the planner chose
badly both ways: it estimates phrases as if their words were unrelated, and it walked 140,000
entries for a word found in one post in a hundred. So each way is written in a shape that
leaves the planner no other: the walk tests the word outside a LIMITed subquery of the newest
entries (no index can test it there), the index way finds the matches in a subquery fenced
with OFFSET 0 (no date order to walk). Neither needs a planner setting, and a generic plan
(a prepared statement run often) has the same shape as a custom one.

Both engines also put the candidates in display order themselves and send back only the page
shown, with their number (models.search_display_order).

The statements are built once per shape of filters (which of them are set) and engine, with
every value a bound parameter: building one anew cost about 2 ms of CPU.
"""

from __future__ import annotations

from functools import cache
from math import ceil

from sqlalchemy import (
    Select,
    Text,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession

from models.search_display_order import NEWEST, RankedPage, ranked, ranked_page
from models.search_filters import SearchFilters, where
from models.search_index import FTS_TABLE, SEARCH_VECTOR, SearchEntry
from models.text_analysis import Clause, ParsedQuery

TITLE_WEIGHT = 3.0  # how much more a title match counts than a body match
MAX_CANDIDATES = 1000
DENSITY_SAMPLE = 300
DENSITY_SPAN = 100_000
# Measured at 1.1M entries (bench/archive.py): a walk costs about 1.7 us per entry tested, the
# index about 6 us per match (read, sorted). For MAX_CANDIDATES, walking wins from about one
# match in 60, so walks of up to 60,000 entries (a budget of 30,000 sent words one in 50 to the
# index after a walk in vain: p95 160 -> 120 ms).
WALK_DENSITY = 1 / 60
SCAN_BUDGET = 60_000
MIN_WALK_MATCHES = 2  # sampled matches needed to walk, unless within a CoP (see _walk_pays)
# Below WALK_DENSITY, the index first reads only the pages of the newest entries that should
# hold the candidates at the sampled share of matches, with this margin (the share comes from a
# few matches among DENSITY_SAMPLE); if fewer are there, every match.
RECENT_MARGIN = 2.0

_ENTRIES = SearchEntry.__table__
_VECTOR = literal_column(f"search_entries.{SEARCH_VECTOR}", TSVECTOR)
# ts_rank_cd weights D, C, B, A: titles are A, bodies D.
_WEIGHTS = literal_column(f"'{{0.1, 0.2, {1 / TITLE_WEIGHT:.4f}, 1.0}}'::float4[]")
_TSQUERY = bindparam("tsquery", type_=TSQUERY)
_MATCH = bindparam("match", type_=Text)
# The tuning constants are bound parameters: read when searching, not when a statement is built.
_SCAN_BUDGET = bindparam("scan_budget")


def fts5_expression(parsed: ParsedQuery) -> str:
    """An FTS5 MATCH expression; every term is `[a-z0-9]` and double-quoted."""

    def phrase(clause: Clause) -> str:
        return '"' + " ".join(term.replace('"', '""') for term in clause.terms) + '"'

    positive = " AND ".join(phrase(clause) for clause in parsed.required)
    if not parsed.excluded:
        return positive
    negative = " OR ".join(phrase(clause) for clause in parsed.excluded)
    return f"({positive}) NOT ({negative})"


def tsquery_literal(parsed: ParsedQuery) -> str:
    """A PostgreSQL tsquery literal; every term is `[a-z0-9]` and single-quoted."""

    def phrase(clause: Clause) -> str:
        quoted = [f"'{term.replace(chr(39), '')}'" for term in clause.terms]
        return quoted[0] if len(quoted) == 1 else "(" + " <-> ".join(quoted) + ")"

    parts = [phrase(clause) for clause in parsed.required]
    parts += ["!" + phrase(clause) for clause in parsed.excluded]
    return " & ".join(parts)


async def sqlite_candidates(
    session: AsyncSession, parsed: ParsedQuery, filters: SearchFilters, cap: int, page: slice
) -> RankedPage:
    """`page` of the `cap` newest matches ranked by bm25, in one FTS5 query."""
    params = {"match": fts5_expression(parsed), **filters.params()}
    return await ranked_page(session, ranked(_fts5_newest, filters.shape), params, cap, page)


async def postgres_candidates(
    session: AsyncSession, parsed: ParsedQuery, filters: SearchFilters, cap: int, page: slice
) -> RankedPage:
    """`page` of the `cap` newest matches ranked by ts_rank_cd, found the cheaper way (see
    above)."""
    params = {
        "tsquery": tsquery_literal(parsed),
        "scan_budget": SCAN_BUDGET,
        "density_last": DENSITY_SPAN - 1,
        "density_step": DENSITY_SPAN // DENSITY_SAMPLE,
        **filters.params(),
    }
    sampled, matched = (await session.execute(_density_sample(filters.shape), params)).one()
    if _walk_pays(sampled, matched, filters):
        walk = ranked(_newest_first, filters.shape)
        walked = await ranked_page(session, walk, params, cap, page)
        if walked.found > cap:
            return walked
    # Sparse matches, or the walk ran out of budget.
    if matched:
        # The cap should lie among the newest `span` entries: only their pages are read.
        span = ceil((cap + 1) * DENSITY_SAMPLE / matched * RECENT_MARGIN)
        recent = ranked(_through_recent_pages, filters.shape)
        found = await ranked_page(session, recent, {**params, "span": span}, cap, page)
        if found.found > cap:
            return found
    through = ranked(_through_the_index, filters.shape)
    return await ranked_page(session, through, params, cap, page)


def _walk_pays(sampled: int, matched: int, filters: SearchFilters) -> bool:
    """Whether the sample says that walking newest first should reach the candidates.

    One sampled match is too thin a reason, except within a CoP. Searching threads only, the
    sample keeps about 25 entries; one match there sent words found in one thread in a hundred
    on walks in vain through 60,000 threads (300-400 ms, where the index took 8-20 ms). A CoP's
    walk reads only its own entries, and losing it costs little.
    """
    if not sampled or matched / sampled < WALK_DENSITY:
        return False
    return matched >= MIN_WALK_MATCHES or filters.community_id is not None


@cache
def _density_sample(shape: tuple[bool, ...]) -> Select:
    # Spread evenly over the newest ids (ids grow with time), so that one busy thread cannot
    # stand for them all; only entries the filters keep count.
    newest = select(func.max(_ENTRIES.c.id)).scalar_subquery()
    back = func.generate_series(0, bindparam("density_last"), bindparam("density_step"))
    spread = select(newest - back).scalar_subquery()
    return (
        select(func.count(), func.count().filter(_VECTOR.op("@@")(_TSQUERY)))
        .select_from(_ENTRIES)
        .where(_ENTRIES.c.id.in_(spread), *where(shape))
    )


def _fts5_newest(shape: tuple[bool, ...]) -> Select:
    """The newest matches of the FTS5 expression, with their bm25 rank."""
    fts = table(FTS_TABLE, column("rowid"))
    rank = -func.bm25(literal_column(FTS_TABLE), literal_column(f"{TITLE_WEIGHT}"), 1.0)
    return (
        select(_ENTRIES.c.id, _ENTRIES.c.published, rank.label("rank"), _ENTRIES.c.kind)
        .select_from(_ENTRIES.join(fts, fts.c.rowid == _ENTRIES.c.id))
        .where(literal_column(FTS_TABLE).op("MATCH")(_MATCH), *where(shape))
        .order_by(_ENTRIES.c.published.desc(), _ENTRIES.c.id.desc())
        .limit(NEWEST)
    )


def _newest_first(shape: tuple[bool, ...]) -> Select:
    """Test at most SCAN_BUDGET entries newest first; rank only the matches."""
    walked = (
        select(_ENTRIES.c.id, _ENTRIES.c.published, _ENTRIES.c.kind, _VECTOR.label("vector"))
        .where(*where(shape))
        .order_by(_ENTRIES.c.published.desc(), _ENTRIES.c.id.desc())
        .limit(_SCAN_BUDGET)
        .subquery()
    )
    rank = func.ts_rank_cd(_WEIGHTS, walked.c.vector, _TSQUERY, 1)
    return (
        select(walked.c.id, walked.c.published, rank.label("rank"), walked.c.kind)
        .where(walked.c.vector.op("@@")(_TSQUERY))
        .order_by(walked.c.published.desc(), walked.c.id.desc())
        .limit(NEWEST)
    )


def _through_the_index(shape: tuple[bool, ...]) -> Select:
    """Every match from the GIN index, sorted; the newest ranked (after the LIMIT, so that a
    word with 30,000 matches is not ranked 30,000 times)."""
    return _index_matches(_VECTOR.op("@@")(_TSQUERY), *where(shape))


def _through_recent_pages(shape: tuple[bool, ...]) -> Select:
    """The matches published since the entry `span` entries back from the newest. The block
    range index on `published` gives the pages that hold them, the GIN index the matches, and
    only the pages in both are read: a word found in one entry in 80 read 1,000 pages, not
    every one of its 14,000 matches (16 ms, not 55-60)."""
    newest = select(func.max(_ENTRIES.c.id)).scalar_subquery()
    since = (
        select(_ENTRIES.c.published)
        .where(_ENTRIES.c.id <= newest - bindparam("span"))
        .order_by(_ENTRIES.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return _index_matches(_VECTOR.op("@@")(_TSQUERY), _ENTRIES.c.published >= since, *where(shape))


def _index_matches(*where) -> Select:
    # OFFSET 0 keeps the matches a query of their own: otherwise the planner may walk the date
    # index newest first, testing every entry (140,000 for a word found in one post in 100).
    matches = (
        select(_ENTRIES.c.id, _ENTRIES.c.published, _ENTRIES.c.kind, _VECTOR.label("vector"))
        .where(*where)
        .offset(0)
        .subquery()
    )
    newest = (
        select(matches)
        .order_by(matches.c.published.desc(), matches.c.id.desc())
        .limit(NEWEST)
        .subquery()
    )
    rank = func.ts_rank_cd(_WEIGHTS, newest.c.vector, _TSQUERY, 1)
    return select(newest.c.id, newest.c.published, rank.label("rank"), newest.c.kind)
