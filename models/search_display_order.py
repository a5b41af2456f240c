"""The candidates a search found, in display order, one page of them (both engines).

The ways of finding candidates (models.search_candidates) each give the newest matches, up to
one past the cap, with their rank; here the database numbers them from the newest, sorts them
for display and sends back only the page shown, with their number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

# (entry id, published, rank: higher is better, kind)
Candidate = tuple[int, datetime, float, str]

NEWEST = bindparam("newest")  # cap + 1: the one past the cap says that more matched
_CAP = bindparam("cap")  # how many of the newest matches are ranked
_PAGE_START = bindparam("page_start")
_PAGE_SIZE = bindparam("page_size")


@dataclass(frozen=True)
class RankedPage:
    """One page of candidates in display order, and how many candidates there were."""

    found: int  # at most one more than the `cap` asked for: then more matched
    rows: list[Candidate]


@dataclass(frozen=True)
class RankedStatements:
    """A way's page of candidates in display order, and the count for a page past the end."""

    page: Select
    count: Select


@cache
def ranked(way, shape: tuple[bool, ...]) -> RankedStatements:
    """The statements for `way`'s candidates under filters of this shape (built once)."""
    candidates = _with_newness(way(shape))
    return RankedStatements(
        page=_in_display_order(candidates).offset(_PAGE_START).limit(_PAGE_SIZE),
        count=select(func.count()).select_from(candidates),
    )


async def ranked_page(
    session: AsyncSession, statements: RankedStatements, params: dict, cap: int, page: slice
) -> RankedPage:
    """`page` of the `cap` newest matches (up to `cap` + 1, newest first) in display order,
    sorted by the database: only the rows shown come back (turning a thousand candidates into
    Python rows cost more than finding them).

    The display order, the same on both engines: harvest pages first (a CoP's distilled
    knowledge outranks the conversations it came from), then rank, then newer, then higher id.
    The match after the `cap` newest only says that more matched: it is never shown.
    """
    params = {
        **params,
        "cap": cap,
        "newest": cap + 1,
        "page_start": page.start,
        "page_size": page.stop - page.start,
    }
    rows = (await session.execute(statements.page, params)).all()
    if rows:
        found = rows[0].found
    else:  # a page past the last candidate: count them apart
        found = await session.scalar(statements.count, params)
    shown = [
        (row.id, row.published, float(row.rank), row.kind) for row in rows if row.newness <= cap
    ]
    return RankedPage(found=found, rows=shown)


def _with_newness(newest: Select):
    """The matches, each with its place counted from the newest (1 is the newest)."""
    matches = newest.subquery()  # apart: FTS5's bm25 refuses a window function beside it
    newness = func.row_number().over(order_by=(matches.c.published.desc(), matches.c.id.desc()))
    return select(matches, newness.label("newness")).subquery()


def _in_display_order(candidates) -> Select:
    """The candidates in display order, each row with their number; the match past the cap
    last."""
    return select(
        candidates.c.id,
        candidates.c.published,
        candidates.c.rank,
        candidates.c.kind,
        candidates.c.newness,
        func.count().over().label("found"),
    ).order_by(
        candidates.c.newness > _CAP,
        candidates.c.kind != "page",
        candidates.c.rank.desc(),
        candidates.c.published.desc(),
        candidates.c.id.desc(),
    )
