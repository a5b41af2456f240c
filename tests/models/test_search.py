"""Full-text search: the same corpus and queries give the same ids on SQLite and PostgreSQL.

Every test runs on both databases with the same explicit expectations, which is what proves
the two engines agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, delete, func, select, text

import models.all  # noqa: F401
import models.search_candidates as search_candidates
from models.actors import Actor
from models.base import utcnow
from models.communities import Community
from models.database import create_engine, session_factory
from models.documents import Document, DocumentVersion
from models.migrate import alembic_config
from models.posts import Post, add_post, tombstone
from models.search import reindex_all, search
from models.search_index import (
    SearchEntry,
    index_document,
    index_post,
    post_body_text,
    remove_document,
)
from models.text_analysis import (
    FILLER,
    MAX_OCCURRENCES,
    MAX_POSITIONS,
    analyse,
    entry_terms,
    index_terms,
    parse_query,
    snippet_html,
)

DAY = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return DAY + timedelta(days=n)


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def make_community(session, name: str) -> int:
    actor = Actor(
        type="Group", local_name=name, username=name, display_name=name.title(), public_key_pem="-"
    )
    session.add(actor)
    await session.flush()
    session.add(Community(actor_id=actor.id, actor=actor))
    await session.flush()
    return actor.id


@dataclass
class Corpus:
    nursing: int
    social: int
    ids: dict[str, int]
    author: int

    def __getitem__(self, key: str) -> int:
        return self.ids[key]

    def names(self, hits) -> set[str]:
        by_ref = {
            (("document" if k.startswith("D") else "post"), v): k for k, v in self.ids.items()
        }
        return {
            by_ref[("document" if hit.kind == "document" else "post", hit.ref_id)] for hit in hits
        }


async def build_corpus(session) -> Corpus:
    nursing = await make_community(session, "nursing")
    social = await make_community(session, "socialwork")
    author = Actor(type="Person", local_name="alex", username="alex", public_key_pem="-")
    session.add(author)
    await session.flush()
    ids: dict[str, int] = {}

    async def post(key, community, html, *, title="", parent=None, when=0, summary=""):
        parent_post = await session.get(Post, ids[parent]) if parent else None
        made = await add_post(
            session,
            Post(
                community_id=community,
                author_id=author.id,
                title=title,
                content_html=html,
                summary=summary,
                published=day(when),
                last_activity_at=day(when),
            ),
            parent_post,
        )
        await index_post(session, made)
        ids[key] = made.id
        return made

    await post(
        "T1",
        nursing,
        "<p>How do you structure <strong>handover</strong> between night "
        "and day staff? We use SBAR.</p>",
        title="Night shift handovers on the ward",
    )
    await post(
        "R1",
        nursing,
        "<p>We do a bedside handover with the patient involved.</p>"
        "<p>Falls risk is always discussed.</p>",
        parent="T1",
        when=1,
    )
    await post(
        "R2",
        nursing,
        "<p>Agency staff often miss the handover; we record it on the whiteboard.</p>",
        parent="R1",
        when=2,
    )
    await post(
        "T2",
        nursing,
        "<p>Our falls prevention bundle: footwear, lighting, medication review.</p>",
        title="Falls prevention for older people",
        when=3,
    )
    await post(
        "T3",
        social,
        "<p>When should a safeguarding referral go to the local authority? "
        "Our social workers handle it.</p>",
        title="Safeguarding referrals",
        when=4,
    )
    await post(
        "R3",
        social,
        "<p>Document everything &amp; share with the safeguarding lead. "
        "Don&#39;t wait for the night shift.</p>",
        parent="T3",
        when=5,
    )
    await post(
        "T4",
        social,
        "<p>Carers\u2019 assessments under the Care Act 2014 \u2014 caf\u00e9 meetups help.</p>",
        title="Caring for carers",
        when=6,
    )
    deleted = await post(
        "T5", nursing, "<p>handover handover</p>", title="Handover secrets", when=7
    )
    tombstone(deleted, utcnow())
    await index_post(session, deleted)
    await post(
        "T6",
        social,
        "<p>&lt;script&gt;alert('x')&lt;/script&gt; handover &amp; more "
        "<script>alert('hidden')</script></p>",
        title="<script>alert(1)</script> Script test",
        when=8,
    )

    async def document(key, community, title, description, body, when):
        doc = Document(
            community_id=community,
            uploader_id=author.id,
            title=title,
            description=description,
            created_at=day(when),
            updated_at=day(when),
        )
        session.add(doc)
        await session.flush()
        version = DocumentVersion(
            document_id=doc.id,
            sha256="0" * 64,
            size=len(body),
            media_type="application/pdf",
            filename="x.pdf",
            text=body,
            uploaded_by=author.id,
        )
        session.add(version)
        await session.flush()
        await index_document(session, doc, version)
        ids[key] = doc.id

    await document(
        "D1",
        nursing,
        "Medication handover checklist",
        "Checklist for safe medication handovers",
        "Check the MAR chart.\nConfirm allergies.\nCOVID-19 status recorded.",
        9,
    )
    await document(
        "D2",
        social,
        "Care Act 2014 summary",
        "",
        "Assessment of needs for carers and adults. Eligibility criteria.",
        10,
    )
    await session.commit()
    return Corpus(nursing=nursing, social=social, ids=ids, author=author.id)


@pytest.fixture
async def corpus(sessions):
    async with sessions() as session:
        return await build_corpus(session)


async def found(sessions, corpus, query, **filters) -> set[str]:
    async with sessions() as session:
        page = await search(session, query, limit=100, **filters)
    assert page.total == len(page.hits)
    return corpus.names(page.hits)


# The same expectations on both engines: the heart of "same query, same results".
PARITY = [
    ("handover", {"T1", "R1", "R2", "D1", "T6"}),
    ("handovers", {"T1", "R1", "R2", "D1", "T6"}),  # stemming
    ("HANDOVER", {"T1", "R1", "R2", "D1", "T6"}),
    ('"night shift"', {"T1", "R3"}),  # phrase in a title and in a body
    ('"shift handovers"', {"T1"}),
    ("handover -night", {"R1", "R2", "D1", "T6"}),  # exclusion
    ('handover -"bedside handover"', {"T1", "R2", "D1", "T6"}),  # excluded phrase
    ("fall", {"R1", "T2"}),  # "Falls" stems to "fall"
    ("safeguarding referral", {"T3"}),  # every word must match
    ("carers", {"T4", "D2"}),  # Carers' with a curly apostrophe
    ("cafe", {"T4"}),  # café: diacritics folded
    ("COVID-19", {"D1"}),  # a hyphenated word is a phrase
    ("2014", {"T4", "D2"}),
    ("don't", {"R3"}),
    ('"medication review"', {"T2"}),
    ("medication", {"T2", "D1"}),
    ("the handover", {"T1", "R1", "R2", "D1", "T6"}),  # common words dropped outside phrases
    ('"ward how"', set()),  # no phrase across the end of a title and the start of the body
    ("hidden", set()),  # <script> contents are not indexed
    ("secrets", set()),  # deleted posts are not found
    ("nothingmatches", set()),
]


@pytest.mark.parametrize(("query", "expected"), PARITY, ids=[q for q, _ in PARITY])
async def test_same_results_on_both_engines(sessions, corpus, query, expected):
    assert await found(sessions, corpus, query) == expected


async def test_the_clear_winner_ranks_first_on_both_engines(sessions, corpus):
    async with sessions() as session:
        page = await search(session, "safeguarding")
    assert corpus.names(page.hits) == {"T3", "R3"}
    assert page.hits[0].ref_id == corpus["T3"]  # in the title and the body
    assert page.hits[0].rank > page.hits[1].rank > 0


async def test_filters_by_cop_kind_and_date(sessions, corpus):
    assert await found(sessions, corpus, "handover", community_id=corpus.social) == {"T6"}
    assert await found(sessions, corpus, "handover", kind="reply") == {"R1", "R2"}
    assert await found(sessions, corpus, "handover", kind="thread") == {"T1", "T6"}
    assert await found(sessions, corpus, "handover", kind="document") == {"D1"}
    assert await found(sessions, corpus, "handover", since=day(1), until=day(9)) == {
        "R1",
        "R2",
        "T6",
    }
    assert await found(sessions, corpus, "handover", until=day(1)) == {"T1"}
    assert await found(
        sessions, corpus, "handover", community_id=corpus.nursing, kind="thread"
    ) == {"T1"}
    with pytest.raises(ValueError, match="kind"):
        await found(sessions, corpus, "handover", kind="event")


async def test_hits_carry_what_a_result_list_needs(sessions, corpus):
    async with sessions() as session:
        page = await search(session, "whiteboard")
        (hit,) = page.hits
    assert hit.kind == "reply"
    assert hit.ref_id == corpus["R2"]
    assert hit.thread_id == corpus["T1"]
    assert hit.community_id == corpus.nursing
    assert hit.title == "Night shift handovers on the ward"  # a reply shows its thread's title
    assert hit.published == day(2)
    assert "<mark>whiteboard</mark>" in hit.snippet_html
    async with sessions() as session:
        (thread,) = (await search(session, "SBAR")).hits
        (document,) = (await search(session, "allergies")).hits
    assert (thread.kind, thread.thread_id, thread.ref_id) == ("thread", corpus["T1"], corpus["T1"])
    assert (document.kind, document.ref_id, document.thread_id) == ("document", corpus["D1"], None)
    assert document.title == "Medication handover checklist"
    assert "<mark>allergies</mark>" in document.snippet_html


async def test_pages_partition_the_results(sessions, corpus):
    seen: list[int] = []
    async with sessions() as session:
        for offset in (0, 2, 4, 6):
            page = await search(session, "handover", limit=2, offset=offset)
            assert page.total == 5
            seen += [hit.ref_id for hit in page.hits]
        everything = await search(session, "handover", limit=10)
    assert len(seen) == 5
    assert seen == [hit.ref_id for hit in everything.hits]  # a stable order across pages
    ranks = [hit.rank for hit in everything.hits]
    assert ranks == sorted(ranks, reverse=True)


async def test_common_words_rank_the_newest_matches_only(sessions, corpus):
    # handover: T1 (day 0), R1 (1), R2 (2), T6 (8), D1 (9); the 3 newest are ranked.
    async with sessions() as session:
        page = await search(session, "handover", candidates=3)
        assert corpus.names(page.hits) == {"R2", "T6", "D1"}
        assert (page.total, page.more) == (3, True)
        page = await search(session, "handover", candidates=5)
        assert (page.total, page.more) == (5, False)


def _record_the_ways(monkeypatch) -> list[int]:
    """Sample the whole corpus (its 100 newest entries) and record how many each way found."""
    monkeypatch.setattr(search_candidates, "DENSITY_SPAN", 100)
    monkeypatch.setattr(search_candidates, "DENSITY_SAMPLE", 100)
    found_per_query: list[int] = []
    ranked_page = search_candidates.ranked_page

    async def recording(*args, **kwargs):
        page = await ranked_page(*args, **kwargs)
        found_per_query.append(page.found)
        return page

    monkeypatch.setattr(search_candidates, "ranked_page", recording)
    return found_per_query


@pytest.mark.parametrize(
    ("walk_density", "scan_budget", "recent_margin", "found_on_postgresql"),
    [
        (0.0, 10**6, 2.0, [3]),
        (0.0, 2, 2.0, [1, 0, 3]),
        (2.0, 10**6, 2.0, [0, 3]),
        (2.0, 10**6, 0.3, [3]),
        (2.0, 10**6, 0.01, [1, 3]),
    ],
    ids=[
        "always-walk",
        "walk-out-of-budget",
        "the-index",
        "the-index-on-recent-pages",
        "too-few-on-recent-pages",
    ],
)
async def test_every_way_of_finding_the_newest_matches_agrees(
    sessions, corpus, monkeypatch, walk_density, scan_budget, recent_margin, found_on_postgresql
):
    """PostgreSQL walks newest first, gives up a walk that runs out of budget, or goes through
    the GIN index, first on the pages of the newest entries only (models.search_candidates);
    the results never depend on which."""
    monkeypatch.setattr(search_candidates, "WALK_DENSITY", walk_density)
    monkeypatch.setattr(search_candidates, "SCAN_BUDGET", scan_budget)
    monkeypatch.setattr(search_candidates, "RECENT_MARGIN", recent_margin)
    # Sample each of the 100 newest entries: the whole corpus, 5 of them matching "handover".
    # found_per_query: how many each query found; a walk in vain is followed by the index.
    found_per_query = _record_the_ways(monkeypatch)
    async with sessions() as session:
        await search(session, "handover", candidates=2)
        if session.bind.dialect.name == "postgresql":  # the way this case names was taken
            assert found_per_query == found_on_postgresql
        for cap, expected in ((2, {"T6", "D1"}), (4, {"R1", "R2", "T6", "D1"}), (9, None)):
            page = await search(session, "handover", candidates=cap)
            wanted = expected or {"T1", "R1", "R2", "T6", "D1"}
            assert corpus.names(page.hits) == wanted, cap
        page = await search(session, "handover", since=day(1), until=day(8.5))
        assert corpus.names(page.hits) == {"R1", "R2", "T6"}


@pytest.mark.parametrize(
    ("in_a_cop", "found_on_postgresql"),
    [(False, [0, 1]), (True, [1, 0, 1])],
    ids=["all-entries-to-the-index", "a-cop-walks"],
)
async def test_one_sampled_match_is_walked_only_within_a_cop(
    sessions, corpus, monkeypatch, in_a_cop, found_on_postgresql
):
    """One match in the density sample sends a search through the index (a walk in vain
    among all entries costs far more), except within a CoP, whose walk reads only its own."""
    monkeypatch.setattr(search_candidates, "WALK_DENSITY", 0.0)
    # A walk, if any; the newest pages (R2 is not there), then the index.
    found_per_query = _record_the_ways(monkeypatch)
    cop = corpus.nursing if in_a_cop else None
    async with sessions() as session:
        page = await search(session, "whiteboard", community_id=cop)
        if session.bind.dialect.name == "postgresql":
            assert found_per_query == found_on_postgresql
    assert corpus.names(page.hits) == {"R2"}


async def test_snippets_and_titles_are_escaped_except_the_marks(sessions, corpus):
    async with sessions() as session:
        (hit,) = (await search(session, "script")).hits
    assert hit.ref_id == corpus["T6"]
    assert "<script" not in hit.snippet_html + hit.title_html
    assert "&lt;<mark>script</mark>&gt;alert(&#x27;x&#x27;)" in hit.snippet_html
    assert hit.title_html == (
        "&lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; <mark>Script</mark> test"
    )
    assert "hidden" not in hit.snippet_html
    async with sessions() as session:
        (hit,) = (await search(session, "handovers", kind="reply", limit=1)).hits
    assert "<mark>handover</mark>" in hit.snippet_html  # the stem matched, the word is marked


def test_snippet_centres_on_the_best_cluster_and_marks_ellipses():
    filler = " ".join(f"word{n}" for n in range(200))
    value = f"falls early. {filler} falls prevention together here. {filler} end"
    terms = frozenset(analyse("falls prevention"))
    snippet = snippet_html(value, terms, words=10)
    assert snippet.startswith("… ")
    assert snippet.endswith(" …")
    assert "<mark>falls</mark> <mark>prevention</mark> together" in snippet
    assert snippet_html("short text here", terms) == "short text here"
    assert snippet_html("", terms) == ""


INJECTIONS = [
    '"',
    '""',
    '"""',
    "*",
    "handover*",
    "NEAR(handover night)",
    "NEAR",
    "title_terms:handover",
    "body_terms : handover",
    ":",
    "&|!",
    "handover & night | !x",
    "'",
    "''",
    "\\",
    "(",
    ")",
    "((",
    "^handover",
    "AND OR NOT",
    "-",
    "--",
    "-handover",
    '-"night shift"',
    '"unbalanced',
    'handover "night',
    "'); DROP TABLE search_entries; --",
    "a\x00b",
    "\u202e\u0000",
    "{x}",
    "x" * 5000,
    " ".join(["handover"] * 100),
    "<->",
    "handover <-> night",
    "!handover",
    "\u7e41\u4f53\u5b57",
    "\U0001f600",
    "12e3x",
    "1e5",
]


@pytest.mark.parametrize("query", INJECTIONS)
async def test_hostile_queries_never_raise(sessions, corpus, query):
    async with sessions() as session:
        page = await search(session, query)
    assert page.total == len(page.hits)


async def test_hostile_queries_mean_what_their_words_say(sessions, corpus):
    handover = {"T1", "R1", "R2", "D1", "T6"}
    assert await found(sessions, corpus, "handover*") == handover
    assert await found(sessions, corpus, "(handover) night*") == {"T1"}
    assert await found(sessions, corpus, "handover:night") == {"T1"}
    assert await found(sessions, corpus, "NEAR(handover night)") == set()  # "near" is a word
    assert await found(sessions, corpus, "-handover") == set()  # only exclusions: nothing
    assert await found(sessions, corpus, 'handover "night') == {"T1"}  # quote runs to the end
    assert await found(sessions, corpus, "handover & night | !SBAR") == {"T1"}


def test_query_parsing():
    parsed = parse_query('falls "night shift" -agency -"day staff" the')
    assert [c.terms for c in parsed.required] == [("fall",), ("night", "shift")]
    assert [c.terms for c in parsed.excluded] == [("agenc",), ("day", "staff")]
    assert parse_query("the").required[0].terms == ("the",)  # nothing else: kept
    assert parse_query("-x").is_empty
    assert parse_query("").is_empty


def test_analysed_terms_are_plain_ascii_words():
    terms = analyse("Nurse's HANDOVERS, café-style; naïve 12e3x COVID-19 \u03bd\u03bf\u03c3\u03bf")
    assert terms[:6] == ["nurs", "handov", "cafe", "style", "naiv", "n12e3x"]
    assert all(re.fullmatch("[a-z0-9]+", term) for term in terms)
    assert analyse("x" * 200) == analyse("x" * 200)
    assert len(analyse("x" * 200)[0]) < 48


def test_long_texts_fit_postgresql_limits():
    body = " ".join(f"w{n % 3000}" for n in range(30000)) + " rareword"
    title_terms, body_terms = index_terms("title", body)
    stream = body_terms.split()
    assert len(title_terms.split()) + 1 + len(stream) <= MAX_POSITIONS
    assert "rareword" in stream  # words late in a long document stay findable
    repeated = index_terms("", "care " * 400)[1].split()
    assert repeated.count("care") == MAX_OCCURRENCES
    assert repeated[MAX_OCCURRENCES:] == [FILLER] * (400 - MAX_OCCURRENCES)


async def test_engine_sees_exactly_the_python_terms(sessions, corpus):
    """The database's own tokenizer must not split or merge any analysed term."""
    weird = "12e3x 1e5 0x1f 007 covid19 \u00e9t\u00e9 \u7e41\u4f53 " + "y" * 90 + " a1b2 3d 2nd"
    async with sessions() as session:
        post = await add_post(
            session,
            Post(
                community_id=corpus.nursing,
                author_id=corpus.author,
                title="Odd",
                content_html=f"<p>{weird}</p>",
            ),
            None,
        )
        await index_post(session, post)
        await session.commit()
        entry = await session.scalar(select(SearchEntry).where(SearchEntry.post_id == post.id))
        title_terms, body_terms = entry_terms("Odd", post_body_text(post))
        expected = [*title_terms.split(), *body_terms.split()]
        if session.bind.dialect.name == "postgresql":
            rows = await session.execute(
                text(
                    "SELECT lexeme, unnest(positions) AS position FROM "
                    "unnest((SELECT search_vector FROM search_entries WHERE id = :id)) "
                    "ORDER BY position"
                ),
                {"id": entry.id},
            )
            seen = [row.lexeme for row in rows]
        else:
            await session.execute(
                text("CREATE VIRTUAL TABLE temp.v USING fts5vocab(main, search_fts, instance)")
            )
            rows = await session.execute(
                text("SELECT term FROM temp.v WHERE doc = :id ORDER BY col = 'body_terms', offset"),
                {"id": entry.id},
            )
            seen = [row.term for row in rows]
    assert seen == expected
    async with sessions() as session:
        for query in ("12e3x", "1e5", "covid19", "\u00e9t\u00e9", "y" * 90, "a1b2", "2nd"):
            hits = (await search(session, query)).hits
            assert [hit.ref_id for hit in hits] == [post.id], query


async def test_edits_tombstones_and_deletes_keep_the_index_exact(sessions, corpus):
    async with sessions() as session:
        post = await session.get(Post, corpus["R1"])
        post.content_html = "<p>We now use a digital handoff tool.</p>"
        await index_post(session, post)
        await session.commit()
    assert await found(sessions, corpus, "bedside") == set()
    assert await found(sessions, corpus, "handoff") == {"R1"}

    async with sessions() as session:
        post = await session.get(Post, corpus["R2"])
        tombstone(post, utcnow())
        await index_post(session, post)
        await session.commit()
    assert await found(sessions, corpus, "whiteboard") == set()

    async with sessions() as session:  # a hard delete of a thread cascades to its replies
        await session.execute(delete(Post).where(Post.id == corpus["T3"]))
        document = await session.get(Document, corpus["D2"])
        document.deleted_at = utcnow()
        await index_document(session, document, None)
        await remove_document(session, corpus["D1"])
        await session.commit()
    assert await found(sessions, corpus, "safeguarding") == set()
    assert await found(sessions, corpus, "carers") == {"T4"}
    assert await found(sessions, corpus, "handover") == {"T1", "T6"}
    await assert_index_consistent(sessions, entries=5)  # T1, R1, T2, T4, T6


async def assert_index_consistent(sessions, *, entries: int):
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(SearchEntry))
        if session.bind.dialect.name == "sqlite":
            # Raises if the FTS5 table's own structures disagree.
            await session.execute(
                text("INSERT INTO search_fts(search_fts, rank) VALUES ('integrity-check', 1)")
            )
            indexed = await session.scalar(text("SELECT count(*) FROM search_fts"))
        else:
            indexed = await session.scalar(
                text("SELECT count(*) FROM search_entries WHERE search_vector IS NOT NULL")
            )
    assert count == indexed == entries


async def index_rows(session) -> list[tuple]:
    """Every entry with the terms its engine holds for it."""
    if session.bind.dialect.name == "sqlite":
        statement = (
            "SELECT e.kind, e.post_id, e.document_id, e.published, f.title_terms || '|' || "
            "f.body_terms FROM search_entries e JOIN search_fts f ON f.rowid = e.id"
        )
    else:
        statement = (
            "SELECT kind, post_id, document_id, published, search_vector::text FROM search_entries"
        )
    rows = await session.execute(text(statement + " ORDER BY 1, 2, 3"))
    return [tuple(row) for row in rows]


async def test_reindex_all_rebuilds_the_same_entries(sessions, corpus):
    async with sessions() as session:
        before = await index_rows(session)
        assert await reindex_all(session, batch=3) == len(before) == 10
        await session.commit()
        assert await index_rows(session) == before
    assert await found(sessions, corpus, "handover") == {"T1", "R1", "R2", "D1", "T6"}
    await assert_index_consistent(sessions, entries=10)


async def insert_as_of_then(session, model, **values) -> int | None:
    """Insert a row into a table as the database has it now (an older revision): only the
    columns it has, with the model's types and Python-side defaults."""

    def reflect(connection):
        table = Table(model.__tablename__, MetaData(), autoload_with=connection)
        return [column.name for column in table.columns]

    names = await (await session.connection()).run_sync(reflect)
    columns = [model.__table__.c[name] for name in names]
    table = Table(model.__tablename__, MetaData(), *(column._copy() for column in columns))
    row = dict(values)
    for column in columns:
        default = column.default
        if column.name not in row and default is not None and not column.primary_key:
            row[column.name] = default.arg(None) if callable(default.arg) else default.arg
    primary = [column for column in table.columns if column.primary_key]
    result = await session.execute(table.insert().values(**row).returning(*primary))
    return result.scalar()


async def test_migration_indexes_what_was_there_before(database_url):
    """Downgrade to 0003, store content, upgrade: existing posts and documents are found."""
    engine = create_engine(database_url)

    def migrate(connection, revision, up):
        config = alembic_config()
        config.attributes["connection"] = connection
        (command.upgrade if up else command.downgrade)(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "0003", False)
        sessions = session_factory(engine)
        async with sessions() as session:
            # Tables that gained columns since 0003 are written with only the columns they had.
            group = Actor(type="Group", local_name="nursing", username="nursing")
            group.public_key_pem = "-"
            session.add(group)
            await session.flush()
            community = group.id
            await insert_as_of_then(session, Community, actor_id=community)
            author = Actor(type="Person", local_name="sam", username="sam", public_key_pem="-")
            session.add(author)
            await session.flush()
            root_id = await insert_as_of_then(
                session,
                Post,
                community_id=community,
                author_id=author.id,
                title="Pressure ulcers",
                content_html="<p>Turning charts</p>",
                published=day(0),
            )
            await insert_as_of_then(
                session,
                Post,
                community_id=community,
                author_id=author.id,
                thread_id=root_id,
                parent_id=root_id,
                content_html="<p>Repositioning works</p>",
                published=day(1),
            )
            await insert_as_of_then(
                session,
                Post,
                community_id=community,
                author_id=author.id,
                title="Gone",
                content_html="",
                deleted_at=day(2),
                published=day(2),
            )
            document = Document(
                community_id=community, uploader_id=author.id, title="Ulcer grading", description=""
            )
            session.add(document)
            await session.flush()
            session.add(
                DocumentVersion(
                    document_id=document.id,
                    sha256="1" * 64,
                    size=1,
                    media_type="text/plain",
                    filename="a.txt",
                    text="Category 2 ulcers",
                    uploaded_by=author.id,
                )
            )
            await session.commit()
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "head", True)
        async with sessions() as session:
            kinds = sorted(hit.kind for hit in (await search(session, "ulcers")).hits)
            assert kinds == ["document", "thread"]
            (reply,) = (await search(session, "repositioning")).hits
            assert (reply.kind, reply.thread_id, reply.published) == ("reply", root_id, day(1))
            assert (await search(session, "gone")).total == 0
    finally:
        await engine.dispose()
