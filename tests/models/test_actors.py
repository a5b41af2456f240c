"""Local actors: names, one namespace for Groups and Persons, RSA keys."""

from __future__ import annotations

import pytest

from federation.keys import load_private_key
from models.actors import NameTaken, create_local_actor, ensure_instance_actor
from models.communities import create_community, list_communities
from models.database import create_engine, session_factory
from models.names import InvalidName


@pytest.fixture
async def session(database_url):
    engine = create_engine(database_url)
    async with session_factory(engine)() as db:
        yield db
    await engine.dispose()


async def test_community_gets_a_2048_bit_key_pair(session):
    community = await create_community(session, "nursing", title="Nursing")
    await session.commit()
    key = load_private_key(community.actor.private_key_pem)
    assert key.key_size == 2048
    assert key.public_key().public_numbers().n.bit_length() == 2048


@pytest.mark.parametrize("name", ["", "UPPER", "with space", "dash-ed", "é", "x" * 65, "instance"])
async def test_invalid_names_are_refused(session, name):
    with pytest.raises(InvalidName):
        await create_community(session, name, title="x")


async def test_groups_and_persons_share_one_namespace(session):
    await create_local_actor(session, "alex", "Person")
    await session.commit()
    with pytest.raises(NameTaken):
        await create_community(session, "alex", title="Alex's CoP")


async def test_instance_actor_is_created_once(session):
    first = await ensure_instance_actor(session)
    await session.commit()
    second = await ensure_instance_actor(session)
    assert first.id == second.id
    assert first.type == "Application"


async def test_communities_list_alphabetically(session):
    for name in ("zeta", "alpha", "mid"):
        await create_community(session, name, title=name.title())
    await session.commit()
    assert [c.actor.local_name for c in await list_communities(session)] == ["alpha", "mid", "zeta"]


async def test_timestamps_come_back_timezone_aware(session):
    community = await create_community(session, "nursing", title="Nursing")
    await session.commit()
    session.expunge_all()
    (loaded,) = await list_communities(session)
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset().total_seconds() == 0
    assert abs((loaded.created_at - community.created_at).total_seconds()) < 1
