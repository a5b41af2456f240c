"""Stories: Basecamps reach Mastodon and Mobilizon, and RSVPs come back from both.

Each test runs copnet over real TCP beside the fake fediverse (tests/support/fakeremote.py), on
SQLite and PostgreSQL. The app is the one `copnet serve` builds (server.app.create_app): its
activity registry and routes, with no wiring added by the tests.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from federation.objects import parse_datetime
from models.base import utcnow
from models.events import Event
from models.posts import Post
from server.appkeys import DELIVERY, ENGINE, SESSIONS, URLS, WRITE_SESSIONS
from server.services.basecamp_input import parse_input
from server.services.basecamps import cancel_basecamp, create_basecamp, update_basecamp
from server.services.network_actor import ensure_network_actor
from server.workers.scheduler import SchedulerWorker

AS2 = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def basecamp_fields(**overrides) -> dict[str, str]:
    """Form fields of a Basecamp in Leeds, 30 days from now."""
    day = (utcnow() + timedelta(days=30)).date().isoformat()
    return {
        "name": "Basecamp Leeds",
        "description": "A day together.",
        "start": f"{day} 10:00",
        "end": f"{day} 16:00",
        "timezone": "Europe/London",
        "place_name": "Leeds Town Hall",
        "street_address": "The Headrow",
        "locality": "Leeds",
        "postal_code": "LS1 3AD",
        "country": "United Kingdom",
        "latitude": "53.80004",
        "longitude": "-1.54921",
        **overrides,
    }


async def organise(app, hosts=("nursing",), **overrides) -> int:
    """Create a Basecamp in a running app; returns its id."""
    async with app[WRITE_SESSIONS].begin() as session:
        data = parse_input(basecamp_fields(**overrides), list(hosts))
        event = await create_basecamp(session, app[URLS], data, creator_id=None, now=utcnow())
    return event.id


async def network_actor_url(running) -> str:
    async with running.app[WRITE_SESSIONS].begin() as session:
        network = await ensure_network_actor(session)
    return f"{running.url}/c/{network.actor.local_name}"


async def follow(fake, running, who, target: str) -> None:
    activity = {"id": fake.new_id(who), "type": "Follow", "actor": who.id, "object": target}
    response = await fake.send(who, f"{target}/inbox", activity, session=running.client)
    assert response.status == 202
    await running.settle()


async def get_as2(running, url: str) -> dict:
    async with running.client.get(url, headers={"Accept": AS2}) as response:
        assert response.status == 200, await response.text()
        return await response.json(content_type=None)


def objects_of(deliveries, type_: str) -> list[dict]:
    return [d.activity["object"] for d in deliveries if d.activity["object"].get("type") == type_]


async def test_mastodon_user_follows_the_network_and_hears_of_a_basecamp(network, fake):
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    finger = await network.client.get(
        f"{network.url}/.well-known/webfinger",
        params={"resource": f"acct:network@{network.url.split('//')[1]}"},
    )
    assert (await finger.json(content_type=None))["links"][1]["href"] == network_url
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    bob = fake.actor("lemmy.test", "bob", software="lemmy", key_index=1)
    await follow(fake, network, alice, network_url)
    await follow(fake, network, bob, f"{network.url}/c/nursing")

    basecamp_id = await organise(network.app)
    await network.settle()

    creates = fake.deliveries("Create", host="mastodon.test")
    assert {d.activity["actor"] for d in creates} == {network_url}
    assert all(d.verified_by == network_url for d in creates)
    (event,) = objects_of(creates, "Event")
    event_url = f"{network.url}/b/{basecamp_id}"
    assert event["id"] == event_url
    assert event["name"] == "Basecamp Leeds"
    assert "Leeds Town Hall" in event["summary"] and "10:00" in event["summary"]
    assert event["location"]["address"]["postalCode"] == "LS1 3AD"
    (question,) = objects_of(creates, "Question")
    assert question["id"] == f"{event_url}/poll"
    assert [option["name"] for option in question["oneOf"]] == ["Going", "Maybe", "Can't go"]
    assert parse_datetime(question["endTime"]) == parse_datetime(event["startTime"])
    # Lemmy takes posts only from people (crates/apub/src/protocol/objects/page.rs:
    # attributed_to is an ApubPerson): the Network's Group-authored Event and poll are neither
    # announced to the CoP's threadiverse follower nor listed in the CoP's outbox.
    assert fake.deliveries("Announce", host="lemmy.test") == []
    cop_outbox = await get_as2(network, f"{network.url}/c/nursing/outbox?page=1")
    assert cop_outbox["orderedItems"] == []
    # The Event is served at its id (AS2), and its page is there for people.
    assert (await get_as2(network, event_url))["startTime"] == event["startTime"]
    assert (await get_as2(network, f"{event_url}/poll"))["type"] == "Question"
    outbox = await get_as2(network, f"{network_url}/outbox?page=1")
    assert {item["object"]["type"] for item in outbox["orderedItems"]} == {"Event", "Question"}
    page = await network.client.get(event_url, headers={"Accept": "text/html"})
    assert "Basecamp Leeds" in await page.text()


async def test_mobilizon_join_is_accepted_counted_and_leave_uncounts(network, fake):
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    basecamp_id = await organise(network.app, capacity="1")
    event_url = f"{network.url}/b/{basecamp_id}"
    sanof = fake.actor("mobilizon.test", "sanof44", software="mobilizon")
    other = fake.actor("mobilizon.test", "dominique", software="mobilizon", key_index=1)

    def join(who) -> dict:
        return {
            "id": f"{fake.base('mobilizon.test')}/join/event/{uuid.uuid4()}",
            "type": "Join",
            "actor": who.id,
            "object": event_url,
            "participationMessage": None,
            "to": [network_url, PUBLIC],
        }

    first = join(sanof)
    await fake.send(sanof, f"{network_url}/inbox", first, session=network.client)
    await network.settle()
    (accept,) = fake.deliveries("Accept", host="mobilizon.test")
    assert accept.path == "/users/sanof44/inbox"
    assert accept.activity["actor"] == network_url
    assert accept.activity["object"]["id"] == first["id"]
    assert accept.verified_by == network_url
    assert (await get_as2(network, event_url))["participantCount"] == 1

    # Capacity is 1: the next Join is refused.
    second = join(other)
    await fake.send(other, f"{network_url}/inbox", second, session=network.client)
    await network.settle()
    (reject,) = fake.deliveries("Reject", host="mobilizon.test")
    assert reject.activity["object"]["id"] == second["id"]
    event = await get_as2(network, event_url)
    assert (event["participantCount"], event["remainingAttendeeCapacity"]) == (1, 0)

    leave = {
        "id": f"{fake.base('mobilizon.test')}/leave/{uuid.uuid4()}",
        "type": "Leave",
        "actor": sanof.id,
        "object": event_url,
    }
    await fake.send(sanof, f"{network_url}/inbox", leave, session=network.client)
    await network.settle()
    event = await get_as2(network, event_url)
    assert (event["participantCount"], event["remainingAttendeeCapacity"]) == (0, 1)


async def test_mastodon_poll_votes_count_as_rsvps_and_a_changed_vote_moves(
    network, fake, monkeypatch
):
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    await follow(fake, network, alice, network_url)
    basecamp_id = await organise(network.app)
    await network.settle()
    event_url = f"{network.url}/b/{basecamp_id}"
    poll_url = f"{event_url}/poll"

    async def vote(number: int, option: str) -> None:
        # Mastodon's wire format (app/serializers/activitypub/vote_serializer.rb).
        note_id = f"{alice.id}#votes/{number}"
        activity = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": alice.id,
            "to": network_url,
            "object": {
                "id": note_id,
                "type": "Note",
                "name": option,
                "attributedTo": alice.id,
                "inReplyTo": poll_url,
                "to": network_url,
            },
        }
        response = await fake.send(alice, f"{network_url}/inbox", activity, session=network.client)
        assert response.status == 202
        await network.settle()

    await vote(1, "Going")
    assert (await get_as2(network, event_url))["participantCount"] == 1
    tallies = {
        o["name"]: o["replies"]["totalItems"] for o in (await get_as2(network, poll_url))["oneOf"]
    }
    assert tallies == {"Going": 1, "Maybe": 0, "Can't go": 0}
    async with network.app[SESSIONS]() as session:
        assert await session.scalar(select(Post).where(Post.ap_id.like(f"{alice.id}%"))) is None

    await vote(2, "Can't go")
    assert (await get_as2(network, event_url))["participantCount"] == 0
    question = await get_as2(network, poll_url)
    tallies = {o["name"]: o["replies"]["totalItems"] for o in question["oneOf"]}
    assert tallies == {"Going": 0, "Maybe": 0, "Can't go": 1}
    assert question["votersCount"] == 1

    # A few minutes later one batched Update{Question} tells followers the new tallies.
    fake.received.clear()

    def later():
        return utcnow() + timedelta(minutes=4)

    scheduler = SchedulerWorker(
        network.app[ENGINE], network.app[WRITE_SESSIONS], network.app[URLS], clock=later
    )
    monkeypatch.setattr(network.app[DELIVERY], "_clock", later)  # the same "later" for both
    assert await scheduler.run_once() == 1
    await network.settle()
    updates = fake.deliveries("Update", host="mastodon.test")
    (updated_question,) = objects_of(updates, "Question")
    assert updated_question["oneOf"][2]["replies"]["totalItems"] == 1
    (updated_event,) = objects_of(updates, "Event")
    assert updated_event["participantCount"] == 0


async def test_a_mobilizon_event_posted_into_a_cop_is_archived_as_its_event(network, fake):
    cop = await network.community("nursing", "Nursing Practice")
    event = fake.fixture("mobilizon/objects/event.json")
    fake.actor_at(event["actor"])
    group = fake.actor_at(event["attributedTo"], type_="Group", key_index=1)
    event["cc"].append(cop)
    create = {
        "@context": event["@context"],
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
    async with network.app[SESSIONS]() as session:
        archived = await session.scalar(select(Event).where(Event.ap_id == event["id"]))
        posts = list(await session.scalars(select(Post)))
    assert archived is not None
    assert posts == []  # an event, not a thread
    assert archived.name == "Caledonian scottish dance class"
    assert archived.timezone == "Europe/London"
    assert archived.place_name == "The Kenn Centre"
    assert archived.postal_code == "EX6 7TW"
    assert archived.starts_at.isoformat() == "2022-12-11T19:00:00+00:00"
    listing = await network.client.get(f"{network.url}/basecamps?community=nursing")
    assert "Caledonian scottish dance class" in await listing.text()
    ics = await network.client.get(f"{network.url}/b/{archived.id}.ics")
    assert f"UID:{event['id']}" in (await ics.text()).replace("\r\n ", "")


async def test_edits_and_a_cancellation_reach_followers_of_the_network_and_the_hosts(network, fake):
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    carol = fake.actor("gotosocial.test", "carol", software="gotosocial", key_index=1)
    await follow(fake, network, alice, network_url)
    await follow(fake, network, carol, f"{network.url}/c/nursing")
    basecamp_id = await organise(network.app)
    await network.settle()
    # carol follows only the hosting CoP: she got a plain Announce of the Event's id.
    assert f"{network.url}/b/{basecamp_id}" in [
        d.activity["object"] for d in fake.deliveries("Announce", host="gotosocial.test")
    ]
    fake.received.clear()
    async with network.app[WRITE_SESSIONS].begin() as session:
        event = await session.get(Event, basecamp_id)
        data = parse_input(basecamp_fields(place_name="Leeds Civic Hall"), ["nursing"])
        await update_basecamp(session, network.app[URLS], event, data, now=utcnow())
    await network.settle()
    for host in ("mastodon.test", "gotosocial.test"):
        (edited,) = objects_of(fake.deliveries("Update", host=host), "Event")
        assert edited["location"]["name"] == "Leeds Civic Hall"
    fake.received.clear()
    async with network.app[WRITE_SESSIONS].begin() as session:
        event = await session.get(Event, basecamp_id)
        await cancel_basecamp(session, network.app[URLS], event, now=utcnow())
    await network.settle()
    (cancelled,) = objects_of(fake.deliveries("Update", host="mastodon.test"), "Event")
    assert (cancelled["ical:status"], cancelled["eventStatus"]) == ("CANCELLED", "EventCancelled")
    assert cancelled["summary"].startswith("CANCELLED.")
    (closed,) = objects_of(fake.deliveries("Update", host="mastodon.test"), "Question")
    assert "closed" in closed


async def test_an_undo_of_a_join_withdraws_it(network, fake):
    await network.community("nursing", "Nursing Practice")
    network_url = await network_actor_url(network)
    basecamp_id = await organise(network.app)
    event_url = f"{network.url}/b/{basecamp_id}"
    joiner = fake.actor("mobilizon.test", "sanof44", software="mobilizon")
    join = {
        "id": f"{fake.base('mobilizon.test')}/join/{uuid.uuid4()}",
        "type": "Join",
        "actor": joiner.id,
        "object": event_url,
    }
    await fake.send(joiner, f"{network_url}/inbox", join, session=network.client)
    await network.settle()
    assert (await get_as2(network, event_url))["participantCount"] == 1
    undo = {"id": f"{join['id']}/undo", "type": "Undo", "actor": joiner.id, "object": join}
    await fake.send(joiner, f"{network_url}/inbox", undo, session=network.client)
    await network.settle()
    assert (await get_as2(network, event_url))["participantCount"] == 0


async def test_the_organiser_updates_an_archived_event(network, fake):
    cop = await network.community("nursing", "Nursing Practice")
    event = fake.fixture("mobilizon/objects/event.json")
    group = fake.actor_at(event["attributedTo"], type_="Group", key_index=1)
    event["cc"].append(cop)
    create = {
        "id": event["id"] + "/activity",
        "type": "Create",
        "actor": group.id,
        "to": [PUBLIC],
        "cc": [cop],
        "object": event,
    }
    await fake.send(group, f"{network.url}/inbox", create, session=network.client)
    await network.settle()
    moved = {
        **event,
        "startTime": "2022-12-18T19:00:00+00:00",
        "endTime": "2022-12-18T21:00:00+00:00",
        "ical:status": "CANCELLED",
    }
    update = {
        "id": event["id"] + "/update",
        "type": "Update",
        "actor": group.id,
        "to": [PUBLIC],
        "object": moved,
    }
    await fake.send(group, f"{network.url}/inbox", update, session=network.client)
    await network.settle()
    async with network.app[SESSIONS]() as session:
        archived = await session.scalar(select(Event).where(Event.ap_id == event["id"]))
    assert archived.starts_at.isoformat() == "2022-12-18T19:00:00+00:00"
    assert (archived.status, archived.sequence) == ("CANCELLED", 1)
