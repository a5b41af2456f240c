"""FEP-8a8e on Groups: a CoP's upcoming events, and remote Events deleted by their organiser.

The Event fixture is Mobilizon's own (tests/fixtures/activitypub/mobilizon/objects/event.json);
Mobilizon sends `Delete` of an Event from the organiser (the group) on its server.
"""

from __future__ import annotations

from sqlalchemy import func, select

from models.events import Event, EventHost
from server.appkeys import SESSIONS
from tests.scenarios.test_basecamp_federation import PUBLIC, get_as2, organise


async def archive_mobilizon_event(network, fake, cop: str, **changes) -> tuple[dict, object]:
    event = {**fake.fixture("mobilizon/objects/event.json"), **changes}
    group = fake.actor_at(event["attributedTo"], type_="Group", key_index=1)
    event["cc"] = [*event["cc"], cop]
    create = {
        "id": event["id"] + "/activity",
        "type": "Create",
        "actor": group.id,
        "to": [PUBLIC],
        "cc": [cop],
        "object": event,
    }
    response = await fake.send(group, f"{network.url}/inbox", create, session=network.client)
    assert response.status == 202
    await network.settle()
    return event, group


async def test_a_cop_lists_its_upcoming_events(network, fake):
    cop = await network.community("nursing", "Nursing Practice")
    await network.community("dementia", "Dementia Care")
    basecamp_id = await organise(network.app, hosts=("nursing",))
    # An event posted from Mobilizon, moved into the future; and one long over.
    future, _group = await archive_mobilizon_event(
        network,
        fake,
        cop,
        startTime="2099-12-11T19:00:00+00:00",
        endTime="2099-12-11T21:00:00+00:00",
    )
    group_document = await get_as2(network, cop)
    assert group_document["upcomingEvents"] == f"{cop}/events"
    assert "upcomingEvents" in group_document["@context"][2]
    collection = await get_as2(network, f"{cop}/events")
    assert collection["orderedItems"] == [f"{network.url}/b/{basecamp_id}", future["id"]]
    assert collection["totalItems"] == 2
    other = await get_as2(network, f"{network.url}/c/dementia/events")
    assert other["orderedItems"] == []
    async with network.client.get(f"{network.url}/c/nobody/events") as response:
        assert response.status == 404


async def test_the_organiser_deletes_an_archived_event(network, fake):
    cop = await network.community("nursing", "Nursing Practice")
    event, group = await archive_mobilizon_event(network, fake, cop)
    stranger = fake.actor("elsewhere.test", "mallory", key_index=2)
    forged = {
        "id": fake.new_id(stranger),
        "type": "Delete",
        "actor": stranger.id,
        "to": [PUBLIC],
        "object": event["id"],
    }
    await fake.send(stranger, f"{network.url}/inbox", forged, session=network.client)
    await network.settle()
    assert await count_events(network) == 1

    delete = {
        "id": event["id"] + "/delete",
        "type": "Delete",
        "actor": group.id,
        "to": [PUBLIC],
        "object": {"id": event["id"], "type": "Tombstone"},
    }
    response = await fake.send(group, f"{network.url}/inbox", delete, session=network.client)
    assert response.status == 202
    await network.settle()
    assert await count_events(network) == 0
    async with network.app[SESSIONS]() as session:
        assert await session.scalar(select(func.count()).select_from(EventHost)) == 0
    assert (await get_as2(network, f"{cop}/events"))["orderedItems"] == []


async def count_events(network) -> int:
    async with network.app[SESSIONS]() as session:
        return int(await session.scalar(select(func.count()).select_from(Event)) or 0)


async def reply_to(network, fake, who, in_reply_to: str, text: str, network_url: str) -> str:
    """A Mastodon reply to the Basecamp's status (note_serializer.rb: inReplyTo is its id)."""
    note_id = fake.new_id(who, "statuses")
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": who.id,
        "inReplyTo": in_reply_to,
        "to": [PUBLIC],
        "cc": [network_url],
        "content": f"<p>{text}</p>",
        "tag": [{"type": "Mention", "href": network_url}],
    }
    create = {"id": note_id + "/activity", "type": "Create", "actor": who.id, "object": note}
    response = await fake.send(who, f"{network.url}/inbox", create, session=network.client)
    assert response.status == 202
    await network.settle()
    return note_id


async def test_mastodon_replies_to_a_basecamp_are_threaded_and_shown_on_its_page(network, fake):
    await network.community("nursing", "Nursing Practice")
    basecamp_id = await organise(network.app)
    event_url = f"{network.url}/b/{basecamp_id}"
    network_url = (await get_as2(network, event_url))["attributedTo"]
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    bob = fake.actor("mastodon.test", "bob", software="mastodon", key_index=1)
    first = await reply_to(
        network, fake, alice, event_url, "Is there step-free access?", network_url
    )
    await reply_to(network, fake, bob, f"{event_url}/poll", "Bringing two colleagues", network_url)
    await reply_to(network, fake, alice, first, "Found it: yes, from The Headrow.", network_url)

    async with network.app[SESSIONS]() as session:
        event = await session.get(Event, basecamp_id)
        thread_id = event.thread_id
    assert thread_id is not None
    context = await get_as2(network, f"{network.url}/t/{thread_id}/context?page=1")
    assert context["orderedItems"][1:] == [first, *context["orderedItems"][2:]]
    assert len(context["orderedItems"]) == 4  # the Network's opening post and three replies
    page = await (await network.client.get(event_url, headers={"Accept": "text/html"})).text()
    for text in ("Is there step-free access?", "Bringing two colleagues", "from The Headrow"):
        assert text in page
    assert f"/t/{thread_id}" in page
