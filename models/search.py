"""Full-text search over threads, replies and documents, identical on SQLite and PostgreSQL.

How it works, and why it gives the same results on both databases:

- Text is analysed here, in Python, not by the database: `analyse()` splits it into words
  (letters and digits; apostrophes inside a word are dropped, so "nurse's" is "nurses"), folds
  case and diacritics, and stems English words with the Snowball English stemmer
  ("handovers" -> "handov"). Every term is ASCII `[a-z0-9]+`.
- Each indexed post or document is one narrow `search_entries` row (kind, ids, CoP, date) plus
  its terms in the engine's own full-text structure, written by this module: on PostgreSQL the
  `search_vector` tsvector column (GIN-indexed), built with `to_tsvector('simple', ...)` from
  the term streams (`simple` only lowercases, and the term alphabet is chosen so that its parser
  never splits a term); on SQLite a row of the FTS5 table `search_fts` (`unicode61`, no
  stemming) with the entry's id as rowid. Both therefore see the same terms at the same
  positions. The text itself is not copied: titles and snippets come from the posts and
  documents when results are shown.
- A user's query is parsed here (`parse_query`) into words, "quoted phrases" and -exclusions,
  analysed the same way, and written out as an FTS5 MATCH expression or a tsquery literal from
  quoted `[a-z0-9]` terms only. No user text ever reaches MATCH or tsquery syntax.
- PostgreSQL limits that FTS5 lacks are applied to both: at most 16,383 positions per entry and
  256 positions per term. Long documents keep their first 12,000 or so words in full and then
  the words not seen yet, once each (a word late in a long document is still found; a phrase
  there may not be). A term's occurrences past the 256th, and the boundary between title and
  body, are filled with a term no query can produce, so no phrase matches across them.
- Ranking: the newest `MAX_CANDIDATES` matches are ranked (PostgreSQL `ts_rank_cd`, SQLite
  `bm25`, title words count triple). Ranks differ between engines; result sets do not.
- Snippets and highlighted titles are HTML-escaped, with the matched words in `<mark>`.

Writers call `index_post(session, post)` whenever a post is stored, edited or tombstoned and
`index_document(session, document, version)` whenever a document or its latest version
changes; hard deletes of posts, documents and CoPs cascade to the index.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import nh3
import snowballstemmer
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow
from models.documents import Document, DocumentVersion
from models.posts import Post

KINDS = ("thread", "reply", "document")

# Analyser limits. Changing how text is analysed needs `reindex_all` (or a migration that runs it).
MAX_TERM_LENGTH = 48  # longer words are stored as a short hash
MAX_POSITIONS = 16383  # PostgreSQL tsvector positions run 1..16383
MAX_OCCURRENCES = 256  # PostgreSQL keeps at most 256 positions per lexeme
HEAD_POSITIONS = 12000  # of an over-long body, the words kept in order before the tail
MAX_ANALYSED_CHARS = 2_000_000  # text past this is not indexed at all
# A term `analyse` never yields (longer than MAX_TERM_LENGTH): pads positions that must not match.
FILLER = "z" * (MAX_TERM_LENGTH + 8)

MAX_QUERY_CHARS = 500
MAX_CLAUSES = 16
MAX_PHRASE_TERMS = 16
TITLE_WEIGHT = 3.0  # how much more a title match counts than a body match
SNIPPET_WORDS = 30

# The engine-specific full-text objects beside `search_entries` (made by migration 0004, not
# described by the models: see `include_name`).
FTS_TABLE = "search_fts"  # SQLite: FTS5 table, rowid = search_entries.id
SEARCH_VECTOR = "search_vector"  # PostgreSQL: tsvector column of search_entries
SEARCH_VECTOR_INDEX = "ix_search_entries_search_vector"  # its GIN index


def search_vector_sql(title_terms: str, body_terms: str) -> str:
    """PostgreSQL expression of an entry's tsvector from two SQL text expressions.

    Title terms get weight A, body terms weight B. The filler after the title keeps a phrase
    from spanning title and body (FTS5 matches phrases within one column), then is deleted.
    """
    return (
        f"ts_delete(setweight(to_tsvector('simple', {title_terms} || ' {FILLER}'), 'A') || "
        f"setweight(to_tsvector('simple', {body_terms}), 'B'), '{FILLER}'::text)"
    )


class SearchEntry(Base):
    """One searchable thread, reply or document; its terms live in the engine's FTS index."""

    __tablename__ = "search_entries"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'document' AND document_id IS NOT NULL AND post_id IS NULL) OR "
            "(kind IN ('thread', 'reply') AND post_id IS NOT NULL AND document_id IS NULL)",
            name="kind_ref",
        ),
        Index("ix_search_entries_community_published", "community_id", "published"),
        Index("ix_search_entries_published", "published"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    post_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="CASCADE"), unique=True
    )
    document_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("documents.id", ondelete="CASCADE"), unique=True
    )
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(BigId)  # threads: themselves; replies: root
    published: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def ref_id(self) -> int:
        """The id of the post or document this entry indexes."""
        return self.document_id if self.kind == "document" else self.post_id  # type: ignore[return-value]


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic `include_name` hook: leave the engine-specific full-text objects out of
    schema comparisons (they are made by migration 0004 and are not part of the models)."""
    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    if type_ == "column":
        return not (name == SEARCH_VECTOR and parent_names.get("table_name") == "search_entries")
    if type_ == "index":
        return name != SEARCH_VECTOR_INDEX
    return True


# ---------------------------------------------------------------------------------------------
# Analysis: text -> terms


_APOSTROPHES = "'\u2019"
_WORD = re.compile(rf"[^\W_]+(?:[{_APOSTROPHES}][^\W_]+)*")
_NO_APOSTROPHES = str.maketrans("", "", _APOSTROPHES)
_PLAIN_WORD = re.compile(r"[^\W_]+")
# PostgreSQL's parser reads "12e3x" as the number 12e3 and then "x"; a leading letter stops that.
_SPLIT_BY_POSTGRES = re.compile(r"\d+e\d+[a-z]")
_STEMMER = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """The terms of one word as matched by `_WORD` (usually one; NFKD can split a word)."""
    folded = unicodedata.normalize("NFKD", word.translate(_NO_APOSTROPHES))
    folded = "".join(char for char in folded if not unicodedata.combining(char)).casefold()
    terms = []
    for part in _PLAIN_WORD.findall(folded):
        if part.isascii():
            term = _STEMMER.stemWord(part) if part.isalpha() else part
            if _SPLIT_BY_POSTGRES.match(term):
                term = "n" + term
        else:
            term = "u" + part.encode("utf-8").hex()  # other scripts: exact match, no stemming
        if len(term) > MAX_TERM_LENGTH:
            term = "h" + hashlib.blake2b(term.encode(), digest_size=8).hexdigest()
        terms.append(term)
    return tuple(terms)


def _clean(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def _tokens(value: str, limit: int = MAX_ANALYSED_CHARS) -> Iterator[tuple[int, int, str]]:
    """(start, end, term) for each term of `value`, in order; a word can give several."""
    for match in _WORD.finditer(value, 0, min(len(value), limit)):
        for term in _word_terms(match.group()):
            yield match.start(), match.end(), term


def analyse(value: str) -> list[str]:
    """The terms of a text, in order: what the index stores and what queries are made of."""
    return [term for _start, _end, term in _tokens(_clean(value))]


def index_terms(title: str, body: str) -> tuple[str, str]:
    """The (title_terms, body_terms) streams stored for an entry, within PostgreSQL's limits."""
    title_list = analyse(title)[: MAX_POSITIONS // 4]
    budget = MAX_POSITIONS - len(title_list) - 1  # one position for the title/body filler
    body_list = analyse(body)
    if len(body_list) > budget:
        head = body_list[: min(HEAD_POSITIONS, budget - 1)]
        seen = set(head)
        tail = []
        for term in body_list[len(head) :]:
            if term not in seen:
                seen.add(term)
                tail.append(term)
        body_list = [*head, FILLER, *tail][:budget]
    counts: dict[str, int] = {}
    streams = []
    for terms in (title_list, body_list):
        capped = []
        for term in terms:
            seen_count = counts.get(term, 0) + 1
            counts[term] = seen_count
            capped.append(term if seen_count <= MAX_OCCURRENCES else FILLER)
        streams.append(" ".join(capped))
    return streams[0], streams[1]


_BLOCK_END = re.compile(r"(?i)</(p|div|h[1-6]|li|blockquote|pre|tr|td|th)>|<br\s*/?>")


def html_text(value: str) -> str:
    """Plain text of an HTML fragment (scripts and styles dropped), one line per block."""
    with_breaks = _BLOCK_END.sub("\n", value)
    return html.unescape(nh3.clean(with_breaks, tags=set()))


def post_body_text(post: Post) -> str:
    """What is searchable in a post besides its title: content warning and content."""
    parts = [post.summary.strip(), html_text(post.content_html or "").strip()]
    return "\n\n".join(part for part in parts if part)


def document_body_text(document: Document, version: DocumentVersion | None) -> str:
    """What is searchable in a document besides its title: description and extracted text."""
    parts = [document.description.strip(), (version.text if version is not None else "").strip()]
    return "\n\n".join(part for part in parts if part)


def entry_terms(title: str, body: str) -> tuple[str, str]:
    """The (title, body) term streams indexed for a text (used by writers and bulk loaders)."""
    return index_terms(_clean(" ".join(title.split())), _clean(body))


# Statements (parameters :id, :title_terms, :body_terms) that (re)write an entry's terms.
# Only constants are formatted into them.
_VECTOR = search_vector_sql("CAST(:title_terms AS text)", "CAST(:body_terms AS text)")
WRITE_TERMS = {
    "postgresql": [f"UPDATE search_entries SET search_vector = {_VECTOR} WHERE id = :id"],  # noqa: S608
    "sqlite": [
        "DELETE FROM search_fts WHERE rowid = :id",
        "INSERT INTO search_fts(rowid, title_terms, body_terms) "
        "VALUES (:id, :title_terms, :body_terms)",
    ],
}


# ---------------------------------------------------------------------------------------------
# Keeping the index up to date


async def _store(session: AsyncSession, where, values: dict, title: str, body: str) -> None:
    entry = await session.scalar(select(SearchEntry).where(where))
    if entry is None:
        entry = SearchEntry(**values)
        session.add(entry)
    else:
        for key, value in values.items():
            if getattr(entry, key) != value:
                setattr(entry, key, value)
    await session.flush()
    title_terms, body_terms = entry_terms(title, body)
    params = {"id": entry.id, "title_terms": title_terms, "body_terms": body_terms}
    for statement in WRITE_TERMS[session.bind.dialect.name]:
        await session.execute(text(statement), params)


async def index_post(session: AsyncSession, post: Post) -> None:
    """Add, refresh or (for a tombstoned post) remove a post's entry; call after every write.

    The post must have its id (flushed) and its final `thread_id` (see `add_post`).
    """
    if post.is_deleted:
        await remove_post(session, post.id)
        return
    values = {
        "kind": "thread" if post.thread_id is None else "reply",
        "post_id": post.id,
        "document_id": None,
        "community_id": post.community_id,
        "thread_id": post.thread_id or post.id,
        "published": post.published,
    }
    await _store(
        session, SearchEntry.post_id == post.id, values, post.title or "", post_body_text(post)
    )


async def index_document(
    session: AsyncSession, document: Document, version: DocumentVersion | None
) -> None:
    """Add, refresh or (for a deleted document) remove a document's entry.

    `version` is the document's latest version (its extracted `text` is indexed), or None.
    """
    if document.deleted_at is not None:
        await remove_document(session, document.id)
        return
    values = {
        "kind": "document",
        "post_id": None,
        "document_id": document.id,
        "community_id": document.community_id,
        "thread_id": None,
        "published": document.updated_at,
    }
    await _store(
        session,
        SearchEntry.document_id == document.id,
        values,
        document.title,
        document_body_text(document, version),
    )


async def remove_post(session: AsyncSession, post_id: int) -> None:
    """Take a post out of the index."""
    await session.execute(delete(SearchEntry).where(SearchEntry.post_id == post_id))


async def remove_document(session: AsyncSession, document_id: int) -> None:
    """Take a document out of the index."""
    await session.execute(delete(SearchEntry).where(SearchEntry.document_id == document_id))


def _latest_versions():
    latest = (
        select(DocumentVersion.document_id, func.max(DocumentVersion.id).label("version_id"))
        .group_by(DocumentVersion.document_id)
        .subquery()
    )
    return (
        select(Document, DocumentVersion)
        .outerjoin(latest, latest.c.document_id == Document.id)
        .outerjoin(DocumentVersion, DocumentVersion.id == latest.c.version_id)
    )


async def reindex_all(session: AsyncSession, *, batch: int = 500) -> int:
    """Rebuild every entry from posts and documents (after an analyser change); returns count."""
    await session.execute(delete(SearchEntry))
    count = 0
    last = 0
    while True:
        posts = list(
            await session.scalars(
                select(Post)
                .where(Post.id > last, Post.deleted_at.is_(None))
                .order_by(Post.id)
                .limit(batch)
            )
        )
        for post in posts:
            await index_post(session, post)
        count += len(posts)
        if len(posts) < batch:
            break
        last = posts[-1].id
    documents = await session.execute(
        _latest_versions().where(Document.deleted_at.is_(None)).order_by(Document.id)
    )
    for document, version in documents:
        await index_document(session, document, version)
        count += 1
    return count


# ---------------------------------------------------------------------------------------------
# Queries

STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with".split()
)


@dataclass(frozen=True)
class Clause:
    """One part of a query: a word (one term) or a phrase (several), maybe excluded."""

    terms: tuple[str, ...]
    excluded: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    """A user's query as clauses that every positive must match and no exclusion may."""

    required: tuple[Clause, ...] = ()
    excluded: tuple[Clause, ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing can be searched (no words, or only exclusions)."""
        return not self.required

    @property
    def highlight(self) -> frozenset[str]:
        """The terms to mark in titles and snippets."""
        return frozenset(term for clause in self.required for term in clause.terms)


# Characters that separate words in a query (operators in other syntaxes); "-", ".", "/" and
# apostrophes join the parts of one word ("COVID-19", "3.5", "24/7", "don't") into a phrase.
_QUERY_PART = re.compile(r'(-?)"([^"]*)"?|(-?)([^\s"()\[\]{}<>&|!*:^~+=,;?]+)')


def parse_query(query: str) -> ParsedQuery:
    """Words, "quoted phrases" (an unclosed quote runs to the end) and -exclusions.

    Anything else (operators, `*`, `:`, brackets...) is only a word separator. A word that
    analyses to several terms ("COVID-19", "3.5") is a phrase. Common English words are
    dropped outside phrases unless nothing else is left.
    """
    parts: list[tuple[bool, bool, tuple[str, ...], str]] = []
    for match in _QUERY_PART.finditer(query[:MAX_QUERY_CHARS]):
        if match.group(2) is not None:
            excluded, raw, quoted = match.group(1) == "-", match.group(2), True
        else:
            excluded, raw, quoted = match.group(3) == "-", match.group(4), False
            if raw.startswith("-"):  # "--word" or "-" alone
                raw = raw.lstrip("-")
        terms = tuple(analyse(raw))[:MAX_PHRASE_TERMS]
        if terms:
            parts.append((excluded, quoted, terms, raw.casefold()))
    has_content = any(
        not excluded and (quoted or len(terms) > 1 or raw not in STOPWORDS)
        for excluded, quoted, terms, raw in parts
    )
    required: list[Clause] = []
    excluded_clauses: list[Clause] = []
    for excluded, quoted, terms, raw in parts:
        if has_content and not quoted and len(terms) == 1 and raw in STOPWORDS:
            continue
        clause = Clause(terms, excluded)
        target = excluded_clauses if excluded else required
        if clause not in target and len(required) + len(excluded_clauses) < MAX_CLAUSES:
            target.append(clause)
    return ParsedQuery(tuple(required), tuple(excluded_clauses))


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


@dataclass(frozen=True)
class Hit:
    """One search result; `snippet_html` and `title_html` are escaped HTML with <mark>s."""

    kind: str
    ref_id: int
    thread_id: int | None
    community_id: int
    title: str
    snippet_html: str
    published: datetime
    rank: float
    title_html: str = ""


@dataclass(frozen=True)
class SearchPage:
    """A page of hits, best first, and how many there are in all.

    `total` counts at most `MAX_CANDIDATES`; `more` is True when more entries matched than
    that (then the hits are the best of the `MAX_CANDIDATES` newest matches).
    """

    total: int
    hits: list[Hit] = field(default_factory=list)
    query: ParsedQuery = field(default_factory=ParsedQuery)
    more: bool = False


# Relevance is computed over at most this many matches, the newest ones. Ranking every match
# of a common word ("care") means reading every matching row: hundreds of ms per query at a
# million posts. The newest 1,000 are found by walking back through time windows, so a common
# word costs about as much as a rare one, on both engines the same set.
MAX_CANDIDATES = 1000
# PostgreSQL looks for the newest matches in windows back from now: the first spans a week,
# each next one is sized from the matches found so far; before OLDEST the window is open.
FIRST_WINDOW = timedelta(days=7)
OLDEST = datetime(1990, 1, 1, tzinfo=UTC)


async def search(
    session: AsyncSession,
    query: str,
    *,
    community_id: int | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
    offset: int = 0,
    candidates: int = MAX_CANDIDATES,
    now: datetime | None = None,
) -> SearchPage:
    """Entries matching `query`, best first, filtered by CoP, kind and `since <= published <
    until`. A reply's title is its thread's title; deleted items are not found.

    Ranked are the `candidates` newest matches (all of them, unless a query matches more);
    ties go to the newer entry. `now` (default: the clock) only places the search windows.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    parsed = parse_query(query)
    if parsed.is_empty:
        return SearchPage(total=0, hits=[], query=parsed)
    entries = SearchEntry.__table__
    filters = []
    if community_id is not None:
        filters.append(entries.c.community_id == community_id)
    if kind is not None:
        filters.append(entries.c.kind == kind)
    if since is not None:
        filters.append(entries.c.published >= since)
    if until is not None:
        filters.append(entries.c.published < until)
    if session.bind.dialect.name == "postgresql":
        found = await _postgres_candidates(
            session, parsed, filters, candidates + 1, since, until, now or utcnow()
        )
    else:
        found = await _sqlite_candidates(session, parsed, filters, candidates + 1)
    more = len(found) > candidates
    found = found[:candidates]
    # One order on both engines: rank, then newer, then higher id.
    found.sort(key=lambda row: (-row[2], -row[1].timestamp(), -row[0]))
    ranked = found[offset : offset + limit]
    if not ranked:
        return SearchPage(total=len(found), hits=[], query=parsed, more=more)
    shown = await _display(session, [row[0] for row in ranked])
    highlight = parsed.highlight
    hits = []
    for entry_id, _published, score in ranked:
        if entry_id not in shown:
            continue
        entry, title, body = shown[entry_id]
        hits.append(
            Hit(
                kind=entry.kind,
                ref_id=entry.ref_id,
                thread_id=entry.thread_id,
                community_id=entry.community_id,
                title=title,
                snippet_html=snippet_html(body, highlight),
                published=entry.published,
                rank=score,
                title_html=mark_all(title, highlight),
            )
        )
    return SearchPage(total=len(found), hits=hits, query=parsed, more=more)


Candidate = tuple[int, datetime, float]  # (entry id, published, rank: higher is better)


async def _sqlite_candidates(
    session: AsyncSession, parsed: ParsedQuery, filters: list, cap: int
) -> list[Candidate]:
    """The `cap` newest matches with their bm25 rank, in one FTS5 query."""
    entries = SearchEntry.__table__
    fts = table(FTS_TABLE, column("rowid"))
    match = bindparam("match", fts5_expression(parsed), type_=Text)
    rank = -func.bm25(literal_column(FTS_TABLE), literal_column(f"{TITLE_WEIGHT}"), 1.0)
    query = (
        select(entries.c.id, entries.c.published, rank.label("rank"))
        .select_from(entries.join(fts, fts.c.rowid == entries.c.id))
        .where(literal_column(FTS_TABLE).op("MATCH")(match), *filters)
        .order_by(entries.c.published.desc(), entries.c.id.desc())
        .limit(cap)
    )
    return [(row.id, row.published, float(row.rank)) for row in await session.execute(query)]


async def _postgres_candidates(
    session: AsyncSession,
    parsed: ParsedQuery,
    filters: list,
    cap: int,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> list[Candidate]:
    """The `cap` newest matches, window by window back in time, then their ts_rank_cd.

    Each window adds a `published` range to the GIN match, so a word found in every other
    post reads the rows of the newest window or two, not all of its matches.
    """
    entries = SearchEntry.__table__
    # Plans depend on how common the words are (a generic plan walks a whole window), and JIT
    # compilation costs more than it saves on these short queries.
    await session.execute(
        text(
            "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
            "set_config('jit', 'off', true)"
        )
    )
    tsquery = cast(bindparam("tsquery", tsquery_literal(parsed), type_=Text), TSQUERY)
    vector = literal_column(f"search_entries.{SEARCH_VECTOR}", TSVECTOR)
    matches = vector.op("@@")(tsquery)
    found: list[tuple[int, datetime]] = []
    top = min(now, until) if until is not None else now
    upper: datetime | None = None  # the newest window is open-ended (clocks differ)
    lower: datetime | None = top - FIRST_WINDOW
    while True:
        window = [matches, *filters]
        if upper is not None:
            window.append(entries.c.published < upper)
        if lower is not None:
            window.append(entries.c.published >= lower)
        query = (
            select(entries.c.id, entries.c.published)
            .where(*window)
            .order_by(entries.c.published.desc(), entries.c.id.desc())
            .limit(cap - len(found))
        )
        found += [(row.id, row.published) for row in await session.execute(query)]
        if len(found) >= cap or lower is None or (since is not None and lower <= since):
            break
        # Size the next window from the density of matches so far (about 1.5 times what is
        # still needed), between half and 16 times the time covered already: few queries.
        covered = max((top - lower).total_seconds(), 3600)
        wanted = 1.5 * (cap - len(found)) * covered / len(found) if found else 16 * covered
        span = min(16 * covered, max(covered / 2, wanted))
        upper, lower = lower, lower - timedelta(seconds=span)
        if lower < OLDEST:
            lower = None
    if not found:
        return []
    weights = literal_column(f"'{{0.1, 0.2, {1 / TITLE_WEIGHT:.4f}, 1.0}}'::float4[]")
    ranks = await session.execute(
        select(entries.c.id, func.ts_rank_cd(weights, vector, tsquery, 1).label("rank")).where(
            entries.c.id == func.any(bindparam("ids", [row[0] for row in found], ARRAY(BigInteger)))
        )
    )
    rank_of = {row.id: float(row.rank) for row in ranks}
    return [(entry_id, published, rank_of[entry_id]) for entry_id, published in found]


async def _display(
    session: AsyncSession, entry_ids: list[int]
) -> dict[int, tuple[SearchEntry, str, str]]:
    """entry id -> (entry, title, body text) from the posts and documents themselves.

    A reply's title is its thread's title. Items deleted meanwhile are left out.
    """
    entries = list(await session.scalars(select(SearchEntry).where(SearchEntry.id.in_(entry_ids))))
    post_ids = {entry.post_id for entry in entries if entry.post_id is not None}
    post_ids |= {entry.thread_id for entry in entries if entry.kind == "reply" and entry.thread_id}
    posts = {}
    if post_ids:
        posts = {
            post.id: post
            for post in await session.scalars(select(Post).where(Post.id.in_(post_ids)))
        }
    document_ids = [entry.document_id for entry in entries if entry.document_id is not None]
    documents = {}
    if document_ids:
        rows = await session.execute(_latest_versions().where(Document.id.in_(document_ids)))
        documents = {document.id: (document, version) for document, version in rows}
    shown = {}
    for entry in entries:
        if entry.document_id is not None:
            document, version = documents.get(entry.document_id, (None, None))
            if document is not None and document.deleted_at is None:
                shown[entry.id] = (entry, document.title, document_body_text(document, version))
            continue
        post = posts.get(entry.post_id)
        if post is None or post.is_deleted:  # deleted since it was found, or not reindexed
            continue
        thread = posts.get(entry.thread_id) if entry.kind == "reply" else post
        title = thread.title if thread is not None else ""
        shown[entry.id] = (entry, _clean(title), _clean(post_body_text(post)))
    return shown


# ---------------------------------------------------------------------------------------------
# Highlighting

_SPACE = re.compile(r"\s+")


def _marked(value: str, spans: list[tuple[int, int, bool]], start: int, end: int) -> str:
    """Escaped `value[start:end]` with the marked spans wrapped in <mark>, spaces collapsed."""
    out = []
    position = start
    for span_start, span_end, marked in spans:
        if span_end <= start or span_start >= end:
            continue
        out.append(html.escape(_SPACE.sub(" ", value[position:span_start])))
        word = html.escape(value[span_start:span_end])
        out.append(f"<mark>{word}</mark>" if marked else word)
        position = span_end
    out.append(html.escape(_SPACE.sub(" ", value[position:end])))
    return "".join(out)


def _word_spans(value: str, terms: frozenset[str], limit: int) -> list[tuple[int, int, bool]]:
    spans: list[tuple[int, int, bool]] = []
    for match in _WORD.finditer(value, 0, min(len(value), limit)):
        marked = any(term in terms for term in _word_terms(match.group()))
        spans.append((match.start(), match.end(), marked))
    return spans


def mark_all(value: str, terms: frozenset[str]) -> str:
    """The whole (short) text escaped, with matching words in <mark>."""
    return _marked(value, _word_spans(value, terms, len(value)), 0, len(value)).strip()


SNIPPET_SCAN_CHARS = 60_000


def snippet_html(value: str, terms: frozenset[str], words: int = SNIPPET_WORDS) -> str:
    """About `words` words of `value` around its best cluster of matching words, escaped,
    with the matches in <mark> and an ellipsis where text was cut."""
    spans = _word_spans(value, terms, SNIPPET_SCAN_CHARS)
    if not spans:
        return ""
    marked = [index for index, span in enumerate(spans) if span[2]]
    first = 0
    if marked:
        found = [terms.intersection(_word_terms(value[spans[i][0] : spans[i][1]])) for i in marked]
        best = (-1, -1)
        lead = min(3, words // 4)
        for position, index in enumerate(marked):
            stop = bisect.bisect_left(marked, index + words - lead, position)
            score = (len(set().union(*found[position:stop])), stop - position)
            if score > best:
                best, first = score, max(0, index - lead)
        first = max(0, min(first, len(spans) - words))  # near the end: show a full window
    last = min(len(spans), first + words) - 1
    start = 0 if first == 0 else spans[first][0]
    end = len(value) if last == len(spans) - 1 and len(value) <= SNIPPET_SCAN_CHARS else None
    if end is None:
        end = spans[last][1]
    body = _marked(value, spans, start, end).strip()
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(value.rstrip()) else ""
    return prefix + body + suffix
