"""Documents and their versions, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.actors import create_local_actor
from models.communities import CommunityModerator, create_community
from models.database import create_engine, session_factory
from models.document_queries import (
    NewVersion,
    add_version,
    count_versions_with_digest,
    create_document,
    get_document,
    get_version,
    is_community_member,
    latest_version,
    list_documents,
)
from models.follows import upsert_follow

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
    nurse = await create_local_actor(session, "sam", "Person", display_name="Sam")
    await session.commit()
    return community, nurse


def version(tag: str, **extra) -> NewVersion:
    return NewVersion(
        sha256=(tag * 64)[:64],
        size=100,
        media_type="application/pdf",
        filename=f"{tag}.pdf",
        **extra,
    )


async def test_a_document_starts_with_its_first_version(session, cop):
    community, nurse = cop
    document, first = await create_document(
        session,
        community_id=community.actor_id,
        uploader_id=nurse.id,
        title="  Dressings  ",
        description="Which dressing when",
        version=version("a", text="wound\x00bed"),
        now=T0,
    )
    await session.commit()
    found = await get_document(session, document.id)
    assert found is not None
    assert found.document.title == "Dressings"
    assert [v.id for v in found.versions] == [first.id]
    assert found.latest.uploaded_by == nurse.id
    assert found.latest.text == "woundbed"  # PostgreSQL text cannot hold NUL
    assert found.document.created_at == T0


async def test_new_versions_become_the_latest_and_touch_the_document(session, cop):
    community, nurse = cop
    document, first = await create_document(
        session,
        community_id=community.actor_id,
        uploader_id=nurse.id,
        title="Policy",
        description="",
        version=version("a"),
        now=T0,
    )
    second = await add_version(
        session,
        document,
        version=version("b", note="typo fixed"),
        uploaded_by=nurse.id,
        now=T0 + timedelta(days=1),
    )
    await session.commit()
    assert (await latest_version(session, document.id)).id == second.id
    found = await get_document(session, document.id)
    assert [v.id for v in found.versions] == [second.id, first.id]
    assert found.latest.note == "typo fixed"
    assert found.document.updated_at == T0 + timedelta(days=1)


async def test_a_cop_lists_its_documents_newest_first_in_pages(session, cop):
    community, nurse = cop
    other = await create_community(session, "dementia", title="Dementia")
    ids = []
    for day in range(5):
        document, _ = await create_document(
            session,
            community_id=community.actor_id,
            uploader_id=nurse.id,
            title=f"Doc {day}",
            description="",
            version=version(str(day)),
            now=T0 + timedelta(days=day),
        )
        ids.append(document.id)
    await create_document(
        session,
        community_id=other.actor_id,
        uploader_id=nurse.id,
        title="Elsewhere",
        description="",
        version=version("e"),
        now=T0,
    )
    # A new version moves the oldest document to the top.
    oldest = await get_document(session, ids[0])
    newest_version = await add_version(
        session,
        oldest.document,
        version=version("f"),
        uploaded_by=nurse.id,
        now=T0 + timedelta(days=10),
    )
    await session.commit()

    first = await list_documents(session, community.actor_id, limit=2)
    assert first.total == 5
    assert [item.document.id for item in first.items] == [ids[0], ids[4]]
    assert first.items[0].latest.id == newest_version.id
    rest = await list_documents(session, community.actor_id, limit=10, offset=2)
    assert [item.document.id for item in rest.items] == [ids[3], ids[2], ids[1]]


async def test_deleted_documents_are_hidden(session, cop):
    community, nurse = cop
    document, first = await create_document(
        session,
        community_id=community.actor_id,
        uploader_id=nurse.id,
        title="Old",
        description="",
        version=version("a"),
        now=T0,
    )
    document.deleted_at = T0 + timedelta(hours=1)
    await session.commit()
    assert await get_document(session, document.id) is None
    assert await get_version(session, document.id, first.id) is None
    assert (await list_documents(session, community.actor_id, limit=10)).total == 0


async def test_a_version_is_found_only_under_its_own_document(session, cop):
    community, nurse = cop
    one, one_v = await create_document(
        session,
        community_id=community.actor_id,
        uploader_id=nurse.id,
        title="One",
        description="",
        version=version("a"),
        now=T0,
    )
    _two, two_v = await create_document(
        session,
        community_id=community.actor_id,
        uploader_id=nurse.id,
        title="Two",
        description="",
        version=version("a"),
        now=T0,
    )
    await session.commit()
    assert (await get_version(session, one.id, one_v.id)).id == one_v.id
    assert await get_version(session, one.id, two_v.id) is None
    assert await get_version(session, 999_999, one_v.id) is None
    assert await count_versions_with_digest(session, "a" * 64) == 2


async def test_members_are_accepted_followers_or_moderators(session, cop):
    community, nurse = cop
    pending = await create_local_actor(session, "pat", "Person")
    moderator = await create_local_actor(session, "mo", "Person")
    stranger = await create_local_actor(session, "kim", "Person")
    await upsert_follow(
        session,
        followed_id=community.actor_id,
        follower_id=nurse.id,
        state="accepted",
        activity_ap_id=None,
    )
    await upsert_follow(
        session,
        followed_id=community.actor_id,
        follower_id=pending.id,
        state="pending",
        activity_ap_id=None,
    )
    session.add(CommunityModerator(community_id=community.actor_id, actor_id=moderator.id))
    await session.commit()

    async def member(actor) -> bool:
        return await is_community_member(
            session, actor_id=actor.id, community_id=community.actor_id
        )

    assert await member(nurse)
    assert await member(moderator)
    assert not await member(pending)
    assert not await member(stranger)
