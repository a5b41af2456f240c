"""What narrows a search, and its SQL: every value a bound parameter, so that a statement
built for one shape of filters (which of them are set) serves every search of that shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam

from models.search_index import SearchEntry

_ENTRIES = SearchEntry.__table__


@dataclass(frozen=True)
class SearchFilters:
    """What narrows a search: a CoP, a kind, `since <= published < until`, and the CoPs
    whose entries this searcher may not see."""

    community_id: int | None = None
    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    hidden: tuple[int, ...] = ()

    @property
    def shape(self) -> tuple[bool, ...]:
        """Which filters are set: the statements are built once per shape."""
        return (
            self.community_id is not None,
            self.kind is not None,
            self.since is not None,
            self.until is not None,
            bool(self.hidden),
        )

    def params(self) -> dict:
        """The set filters' values, by the names of their bound parameters."""
        values = {
            "community_id": self.community_id,
            "kind": self.kind,
            "since": self.since,
            "until": self.until,
        }
        params = {name: value for name, value in values.items() if value is not None}
        if self.hidden:
            params["hidden"] = list(self.hidden)
        return params


def where(shape: tuple[bool, ...]) -> list:
    """The filter clauses of a shape, each value a bound parameter."""
    community, kind, since, until, hidden = shape
    clauses = []
    if community:
        clauses.append(_ENTRIES.c.community_id == bindparam("community_id"))
    if hidden:  # private CoPs the searcher does not belong to
        clauses.append(_ENTRIES.c.community_id.not_in(bindparam("hidden", expanding=True)))
    if kind:
        clauses.append(_ENTRIES.c.kind == bindparam("kind"))
    if since:
        clauses.append(_ENTRIES.c.published >= bindparam("since"))
    if until:
        clauses.append(_ENTRIES.c.published < bindparam("until"))
    return clauses
