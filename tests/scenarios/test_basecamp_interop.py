"""Basecamps as Mastodon and GoToSocial show them, and polls that survive a move.

Shapes and why (each source is cited where the shape is built):
- GoToSocial makes `summary`, else `name`, the content warning of an Event
  (gotosocial internal/typeutils/astointernal.go, ASStatusToStatus) and warns on a `Link`
  attachment (internal/ap/extract.go, ExtractAttachments): it gets the Event without them, the
  title and when/where leading `content` (federation/event_audiences.py);
- Mastodon shows an Event as `name`, `summary` and its link with no content warning
  (mastodon app/lib/activitypub/activity/create.rb, converted_text), and Mobilizon reads the
  online address from a `Link` named "Website" (mobilizon
  lib/federation/activity_stream/converter/event.ex): everyone else gets the full shape;
- GoToSocial drops a poll's votes when its `endTime` changes (internal/federation/
  dereferencing/util.go, pollChanged); Mastodon only when its options do
  (app/lib/activitypub/parser/poll_parser.rb): the poll's id and `endTime` never change.
"""

from __future__ import annotations

from datetime import timedelta

from federation.objects import parse_datetime
from models.base import utcnow
from models.events import Event
from server.appkeys import URLS, WRITE_SESSIONS
from server.services.basecamp_input import parse_input
from server.services.basecamps import cancel_basecamp, update_basecamp
from tests.scenarios.test_basecamp_federation import (
    AS2,
    basecamp_fields,
    follow,
    get_as2,
    network_actor_url,
    objects_of,
    organise,
)


async def vote(network, fake, who, network_url: str, poll_url: str, number: int, option: str):
    """A poll vote in Mastodon's wire format (app/serializers/activitypub/vote_serializer.rb)."""
    note_id = f"{who.id}#votes/{number}"
    activity = {
        "id": f"{note_id}/activity",
        "type": "Create",
        "actor": who.id,
        "to": network_url,
        "object": {
            "id": note_id,
            "type": "Note",
            "name": option,
            "attributedTo": who.id,
            "inReplyTo": poll_url,
            "to": network_url,
        },
    }
    response = await fake.send(who, f"{network_url}/inbox", activity, session=network.client)
    assert response.status == 202
    await network.settle()


def tallies(question: dict) -> dict[str, int]:
    return {option["name"]: option["replies"]["totalItems"] for option in question["oneOf"]}


async def move(network, basecamp_id: int, **fields) -> None:
    async with network.app[WRITE_SESSIONS].begin() as session:
        event = await session.get(Event, basecamp_id)
        data = parse_input(basecamp_fields(**fields), ["nursing"])
        await update_basecamp(session, network.app[URLS], event, data, now=utcnow())
    await network.settle()


async def test_gotosocial_follower_of_both_gets_one_titled_event_and_one_poll(network, fake):
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    cop_url = f"{network.url}/c/nursing"
    # GoToSocial has no shared inbox: each delivery reaches one person.
    carol = fake.actor("gotosocial.test", "carol", software="gotosocial", shared_inbox=False)
    alice = fake.actor("mastodon.test", "alice", software="mastodon", key_index=1)
    await follow(fake, network, carol, network_url)
    await follow(fake, network, carol, cop_url)
    await follow(fake, network, alice, cop_url)

    fake.received.clear()  # the Accepts
    basecamp_id = await organise(network.app)
    await network.settle()
    event_url = f"{network.url}/b/{basecamp_id}"

    to_carol = [d for d in fake.received if d.host == "gotosocial.test"]
    assert sorted(d.activity["type"] for d in to_carol) == ["Create", "Create"]
    (event,) = objects_of(to_carol, "Event")
    (question,) = objects_of(to_carol, "Question")
    assert "name" not in event and "summary" not in event  # no content warning on GoToSocial
    assert "Basecamp Leeds" in event["content"]
    assert "10:00" in event["content"] and "Leeds Town Hall" in event["content"]
    assert event["startTime"] and event["location"]["address"]["postalCode"] == "LS1 3AD"
    assert "summary" not in question and "name" not in question
    # alice follows only the CoP: a plain Announce of each, once.
    announced = [d.activity["object"] for d in fake.deliveries("Announce", host="mastodon.test")]
    assert sorted(announced) == sorted([event_url, f"{event_url}/poll"])

    # GoToSocial fetching the Event (signed by its key) gets its shape; others the full one.
    signed = {"Accept": AS2, "Signature": f'keyId="{carol.key_id}",signature="x"'}
    async with network.client.get(event_url, headers=signed) as response:
        fetched = await response.json(content_type=None)
        assert "Signature" in response.headers["Vary"]
    assert "name" not in fetched and "Basecamp Leeds" in fetched["content"]
    full = await get_as2(network, event_url)
    assert full["name"] == "Basecamp Leeds" and "10:00" in full["summary"]


async def test_an_online_event_link_is_a_mobilizon_link_or_gotosocial_content(network, fake):
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    carol = fake.actor("gotosocial.test", "carol", software="gotosocial", shared_inbox=False)
    sanof = fake.actor("mobilizon.test", "sanof", software="mobilizon", key_index=1)
    await follow(fake, network, carol, network_url)
    await follow(fake, network, sanof, network_url)
    online = {
        "place_name": "",
        "street_address": "",
        "locality": "",
        "postal_code": "",
        "country": "",
        "latitude": "",
        "longitude": "",
        "online_url": "https://meet.example/basecamp",
    }
    await organise(network.app, **online)
    await network.settle()

    (mobilizon,) = objects_of(fake.deliveries("Create", host="mobilizon.test"), "Event")
    links = [a for a in mobilizon["attachment"] if a["type"] == "Link"]
    assert links == [
        {
            "type": "Link",
            "name": "Website",
            "mediaType": "text/html",
            "href": "https://meet.example/basecamp",
        }
    ]
    (gotosocial,) = objects_of(fake.deliveries("Create", host="gotosocial.test"), "Event")
    assert all(a["type"] != "Link" for a in gotosocial.get("attachment", []))
    assert "https://meet.example/basecamp" in gotosocial["content"]


async def test_moving_a_basecamp_keeps_the_poll_and_its_votes(network, fake):
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    carol = fake.actor("gotosocial.test", "carol", software="gotosocial", shared_inbox=False)
    await follow(fake, network, alice, network_url)
    await follow(fake, network, carol, network_url)
    basecamp_id = await organise(network.app)
    await network.settle()
    poll_url = f"{network.url}/b/{basecamp_id}/poll"
    (created,) = objects_of(fake.deliveries("Create", host="gotosocial.test"), "Question")
    await vote(network, fake, alice, network_url, poll_url, 1, "Going")

    fake.received.clear()
    later = (utcnow() + timedelta(days=33)).date().isoformat()
    await move(network, basecamp_id, start=f"{later} 11:00", end=f"{later} 17:00")
    for host in ("mastodon.test", "gotosocial.test"):
        (moved,) = objects_of(fake.deliveries("Update", host=host), "Question")
        assert moved["id"] == poll_url
        assert moved["endTime"] == created["endTime"]  # GoToSocial keeps the votes it holds
        assert "closed" not in moved
        assert tallies(moved)["Going"] == 1  # the vote before the move still counts
    (moved_event,) = objects_of(fake.deliveries("Update", host="mastodon.test"), "Event")
    assert parse_datetime(moved_event["startTime"]) > parse_datetime(created["endTime"])

    # A second vote by the same person replaces the first.
    await vote(network, fake, alice, network_url, poll_url, 2, "Maybe")
    question = await get_as2(network, poll_url)
    assert tallies(question) == {"Going": 0, "Maybe": 1, "Can't go": 0}
    assert question["votersCount"] == 1


async def test_a_cancelled_basecamps_poll_closes_and_says_so(network, fake):
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    await follow(fake, network, alice, network_url)
    basecamp_id = await organise(network.app)
    await network.settle()
    poll_url = f"{network.url}/b/{basecamp_id}/poll"
    (created,) = objects_of(fake.deliveries("Create", host="mastodon.test"), "Question")
    fake.received.clear()

    async with network.app[WRITE_SESSIONS].begin() as session:
        event = await session.get(Event, basecamp_id)
        await cancel_basecamp(session, network.app[URLS], event, now=utcnow())
    await network.settle()
    (closed,) = objects_of(fake.deliveries("Update", host="mastodon.test"), "Question")
    assert closed["endTime"] == created["endTime"]
    assert parse_datetime(closed["closed"]) < parse_datetime(created["endTime"])
    assert "called off" in closed["content"] and "poll is closed" in closed["content"]
    assert "Vote to RSVP" not in closed["content"]
    await vote(network, fake, alice, network_url, poll_url, 1, "Going")
    assert tallies(await get_as2(network, poll_url))["Going"] == 0


async def test_a_cops_outbox_holds_no_group_authored_post(network, fake):
    """What a Lemmy-compatible importer (PieFed) walks: every post in a CoP's outbox has a
    person as author (lemmy crates/apub/src/protocol/objects/page.rs)."""
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    lemmy = fake.actor("lemmy.test", "bob", software="lemmy")
    await follow(fake, network, lemmy, f"{network.url}/c/nursing")
    await organise(network.app)
    await network.settle()
    outbox = await get_as2(network, f"{network.url}/c/nursing/outbox?page=1")
    authors = [
        item["object"]["object"].get("attributedTo")
        for item in outbox["orderedItems"]
        if isinstance(item.get("object"), dict) and isinstance(item["object"].get("object"), dict)
    ]
    assert network_url not in authors
    assert fake.deliveries("Announce", host="lemmy.test") == []
