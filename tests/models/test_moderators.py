"""Who moderates a CoP: the one question the handlers, services and views all ask."""

from __future__ import annotations

import pytest

from models.actors import create_local_actor
from models.communities import CommunityModerator, create_community, is_moderator
from models.database import create_engine, session_factory


@pytest.fixture
async def session(database_url):
    engine = create_engine(database_url)
    async with session_factory(engine)() as db:
        yield db
    await engine.dispose()


async def test_only_a_moderator_of_that_cop_is_its_moderator(session):
    nursing = await create_community(session, "nursing", title="Nursing")
    midwifery = await create_community(session, "midwifery", title="Midwifery")
    sam = await create_local_actor(session, "sam", "Person")
    kim = await create_local_actor(session, "kim", "Person")
    session.add(CommunityModerator(community_id=nursing.actor_id, actor_id=sam.id))
    await session.commit()
    assert await is_moderator(session, nursing.actor_id, sam.id)
    assert not await is_moderator(session, nursing.actor_id, kim.id)
    assert not await is_moderator(session, midwifery.actor_id, sam.id)
