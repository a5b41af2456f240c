"""The Network actor (one followable Group for the whole Network) and the demo Basecamp."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from models.actors import NameTaken
from models.communities import create_community
from models.database import create_engine, session_factory
from models.event_queries import hosts_of
from models.outgoing import OutgoingActivity
from models.policy import SiteSetting
from server.services.basecamp_demo import seed_demo_basecamp
from server.services.network_actor import (
    announce_new_community,
    ensure_network_actor,
    is_network_actor,
)
from server.urls import Urls

URLS = Urls("https://copnet.test")
NOW = datetime(2026, 11, 26, 9, tzinfo=UTC)


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


async def test_the_network_actor_is_created_once_as_a_cop_only_moderators_post_in(sessions):
    async with sessions() as session:
        first = await ensure_network_actor(session)
        await session.commit()
    async with sessions() as session:
        again = await ensure_network_actor(session)
        assert again.actor_id == first.actor_id
        assert await is_network_actor(session, first.actor_id)
    assert first.actor.local_name == "network"
    assert first.actor.type == "Group"
    assert first.posting_restricted_to_mods


async def test_an_admin_chooses_its_name_and_a_taken_name_is_reported(sessions):
    async with sessions() as session:
        session.add(SiteSetting(key="network.actor_name", value="nhs_network"))
        await create_community(session, "network", title="A CoP called network")
        network = await ensure_network_actor(session, title="Our Network")
        await session.commit()
    assert (network.actor.local_name, network.actor.display_name) == ("nhs_network", "Our Network")
    async with sessions() as session:
        # Starting over (the recorded actor forgotten) with a name a CoP already has.
        await create_community(session, "taken", title="Taken")
        (await session.get(SiteSetting, "network.actor_name")).value = "taken"
        await session.delete(await session.get(SiteSetting, "network.actor_id"))
        await session.flush()
        with pytest.raises(NameTaken, match=r"network\.actor_name"):
            await ensure_network_actor(session)


async def test_a_new_cop_is_announced_by_the_network_actor(sessions):
    async with sessions() as session:
        cop = await create_community(
            session, "wound_care", title="Wound Care", summary_html="<p>Dressings and more.</p>"
        )
        post = await announce_new_community(session, URLS, cop, now=NOW)
        network = await ensure_network_actor(session)
        assert await announce_new_community(session, URLS, network, now=NOW) is None
        await session.commit()
        sent = await session.scalar(
            select(OutgoingActivity).where(OutgoingActivity.actor_id == network.actor_id)
        )
    create = json.loads(sent.body)
    assert (create["type"], create["actor"]) == ("Create", "https://copnet.test/c/network")
    assert sent.in_outbox
    note = create["object"]
    assert note["id"] == f"https://copnet.test/p/{post.id}"
    assert note["name"] == "New community: Wound Care"
    assert "Dressings and more." in note["content"]
    assert {
        "type": "Mention",
        "href": "https://copnet.test/c/wound_care",
        "name": "@wound_care@copnet.test",
    } in note["tag"]


async def test_the_demo_basecamp_is_in_leeds_a_few_weeks_ahead_hosted_by_two_cops(sessions):
    async with sessions() as session:
        for name, title in (
            ("nursing_practice", "Nursing Practice"),
            ("dementia_care", "Dementia Care"),
        ):
            await create_community(session, name, title=title)
        event = await seed_demo_basecamp(session, URLS, now=NOW)
        assert await seed_demo_basecamp(session, URLS, now=NOW) is None
        hosts = (await hosts_of(session, [event.id]))[event.id]
        await session.commit()
    local = event.starts_at.astimezone(ZoneInfo("Europe/London"))
    assert local.weekday() == 5 and local.hour == 10
    assert timedelta(days=21) <= event.starts_at - NOW < timedelta(days=28)
    assert (event.locality, event.postal_code) == ("Leeds", "LS1 3AD")
    assert event.latitude is not None and event.capacity == 120
    assert sorted(h.actor.local_name for h in hosts) == ["dementia_care", "nursing_practice"]
