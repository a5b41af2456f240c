"""Harvest pages, their revisions and sources, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.actors import create_local_actor
from models.communities import create_community
from models.database import create_engine, session_factory
from models.harvest import SOURCE_CHANGED, SOURCE_CURRENT, SOURCE_WITHDRAWN, PageSource
from models.harvest_queries import (
    EditConflict,
    Wording,
    create_page,
    editor_ids,
    get_revision,
    list_pages,
    restore_revision,
    retire,
    revisions_of,
    save_revision,
)
from models.harvest_sources import (
    Provenance,
    add_source,
    pages_quoting,
    source_edited,
    source_withdrawn,
    sources_anonymised,
    sources_of,
)
from models.post_revisions import edit_post
from models.posts import Post, add_post
from models.search import search

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def session(database_url):
    engine = create_engine(database_url)
    async with session_factory(engine)() as db:
        yield db
    await engine.dispose()


@pytest.fixture
async def cop(session):
    community = await create_community(session, "wound_care", title="Wound Care")
    sam = await create_local_actor(session, "sam", "Person", display_name="Sam")
    kim = await create_local_actor(session, "kim", "Person", display_name="Kim")
    await session.commit()
    return community, sam, kim


async def new_page(session, community, author, body="First words."):
    return await create_page(
        session,
        community_id=community.actor_id,
        author_id=author.id,
        wording=Wording(title="  Pressure   ulcers ", summary="What we know", body=body),
        note="started",
        now=T0,
    )


async def test_a_page_starts_with_revision_one_kept_with_author_time_and_note(session, cop):
    community, sam, _kim = cop
    page = await new_page(session, community, sam)
    await session.commit()
    assert page.title == "Pressure ulcers"
    assert page.revision_number == 1
    [first] = await revisions_of(session, page.id)
    assert (first.number, first.author_id, first.note, first.created_at) == (
        1,
        sam.id,
        "started",
        T0,
    )
    assert (await get_revision(session, page.id, 1)).body == "First words."


async def test_each_edit_adds_a_revision_and_an_old_base_is_a_conflict(session, cop):
    community, sam, kim = cop
    page = await new_page(session, community, sam)
    later = T0 + timedelta(minutes=5)
    await save_revision(
        session,
        page,
        base=1,
        author_id=kim.id,
        wording=Wording("Pressure ulcers", "", "Second words."),
        note="kim's edit",
        now=later,
    )
    await session.commit()
    assert page.revision_number == 2 and page.body == "Second words."
    with pytest.raises(EditConflict) as conflict:
        await save_revision(
            session,
            page,
            base=1,
            author_id=sam.id,
            wording=Wording("Pressure ulcers", "", "Sam's competing words."),
            note="",
            now=later,
        )
    assert conflict.value.current == 2
    page_id, editors = page.id, [sam.id, kim.id]
    await session.rollback()
    assert [r.number for r in await revisions_of(session, page_id)] == [2, 1]
    assert await editor_ids(session, page_id) == editors


async def test_restore_adds_a_new_revision_with_the_old_wording(session, cop):
    community, sam, kim = cop
    page = await new_page(session, community, sam)
    await save_revision(
        session, page, base=1, author_id=kim.id, wording=Wording("X", "", "B"), note="", now=T0
    )
    restored = await restore_revision(session, page, 1, base=2, author_id=sam.id, now=T0)
    await session.commit()
    assert (restored.number, restored.restored_from, restored.note) == (3, 1, "Restored revision 1")
    assert (page.title, page.body) == ("Pressure ulcers", "First words.")
    assert (await get_revision(session, page.id, 2)).body == "B"
    with pytest.raises(LookupError):
        await restore_revision(session, page, 9, base=3, author_id=sam.id, now=T0)


async def test_a_retired_page_is_kept_and_listed_only_when_asked(session, cop):
    community, sam, _kim = cop
    page = await new_page(session, community, sam)
    retire(page, T0)
    await session.commit()
    assert page.is_retired
    assert (await list_pages(session, community_ids=[community.actor_id], limit=10)).total == 1
    live = await list_pages(
        session, community_ids=[community.actor_id], limit=10, include_retired=False
    )
    assert live.pages == []


async def test_sources_follow_their_posts_edits_and_deletion(session, cop):
    community, sam, kim = cop
    post = await add_post(
        session,
        Post(community_id=community.actor_id, author_id=kim.id, source="Turn every 2h"),
        None,
    )
    page = await new_page(session, community, sam)
    source = await add_source(
        session,
        page,
        post_id=post.id,
        provenance=Provenance(
            "https://copnet.test/p/1", "Kim", "@kim@copnet.test", "Wound Care", T0
        ),
        quote="Turn every 2h",
        harvested_by=sam.id,
        now=T0,
    )
    await session.commit()
    assert source.state == SOURCE_CURRENT
    assert [p.id for p in await pages_quoting(session, post.id)] == [page.id]
    await sources_anonymised(session, kim.id, "Former member")
    await session.commit()
    await session.refresh(source)
    assert (source.author_name, source.author_handle) == ("Former member", "")
    await edit_post(session, post, title="", source="Turn every 3h", content_html="", now=T0)
    await session.commit()
    [seen] = await sources_of(session, page.id)
    await session.refresh(seen)
    assert (seen.state, seen.quote) == (SOURCE_CHANGED, "Turn every 2h")
    await source_edited(session, post.id)
    await source_withdrawn(session, post.id)
    await session.commit()
    stored = await session.get(PageSource, source.id)
    await session.refresh(stored)
    assert (stored.state, stored.quote) == (SOURCE_WITHDRAWN, "")


async def test_pages_are_found_above_threads_and_have_their_own_filter(session, cop):
    community, sam, kim = cop
    thread = await add_post(
        session,
        Post(
            community_id=community.actor_id,
            author_id=kim.id,
            title="Heel offloading on night shifts",
            content_html="<p>Heel offloading with pillows, heel offloading boots.</p>",
            published=T0 + timedelta(days=1),
        ),
        None,
    )
    page = await new_page(session, community, sam, body="Offloading the heel: pillows.")
    quoted = await add_post(
        session,
        Post(community_id=community.actor_id, author_id=kim.id, source="zinc barrier cream"),
        None,
    )
    await add_source(
        session,
        page,
        post_id=quoted.id,
        provenance=Provenance("https://copnet.test/p/9", "Kim", "@kim@copnet.test", "", T0),
        quote="zinc barrier cream",
        harvested_by=sam.id,
        now=T0,
    )
    await save_revision(
        session,
        page,
        base=1,
        author_id=sam.id,
        wording=Wording(page.title, "", page.body + "\n\n[[source:1]]"),
        note="",
        now=T0,
    )
    await session.commit()
    found = await search(session, "heel offloading")
    assert [(hit.kind, hit.ref_id) for hit in found.hits] == [
        ("page", page.id),
        ("thread", thread.id),
    ]
    only = await search(session, "heel offloading", kind="page")
    assert [hit.ref_id for hit in only.hits] == [page.id]
    assert [hit.ref_id for hit in (await search(session, "zinc", kind="page")).hits] == [page.id]
    await source_withdrawn(session, quoted.id)
    await session.commit()
    assert (await search(session, "zinc", kind="page")).hits == []
