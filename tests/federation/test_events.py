"""The Basecamp `Event` and its poll on the wire: Mobilizon's field set, FEP-8a8e, Mastodon."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from federation.event_documents import EventFacts, event_document
from federation.event_parsing import is_event, parse_event
from federation.event_polls import PollFacts, is_poll_vote, question_document
from federation.event_time import describe_when
from federation.event_vocab import CANCELLED, Place
from federation.objects import InvalidActivity
from tests.support.fixtures import load_fixture

MOBILIZON_EVENT = "mobilizon/objects/event.json"
# Fixture fields a Basecamp has no use for: Mobilizon-internal ids, its hashtag list, its
# language tag and reply-moderation mode, the security context's terms.
NOT_APPLICABLE = {"uuid", "tag", "inLanguage", "repliesModerationOption"}
FEP_8A8E_REQUIRED = {"name", "startTime", "endTime", "organizers"}


def facts(**overrides) -> EventFacts:
    values = {
        "id": "https://copnet.test/b/7",
        "url": "https://copnet.test/b/7",
        "name": "Basecamp Leeds",
        "content_html": "<p>A day together.</p>",
        "source": "A day together.",
        "start": datetime(2027, 3, 29, 9, 0, tzinfo=UTC),
        "end": datetime(2027, 3, 29, 15, 30, tzinfo=UTC),
        "timezone": "Europe/London",
        "organizer": "https://copnet.test/c/network",
        "hosts": [
            ("https://copnet.test/c/nursing", "Nursing Practice"),
            ("https://copnet.test/c/dementia", "Dementia Care"),
        ],
        "followers": "https://copnet.test/c/network/followers",
        "place": Place(
            name="Leeds Town Hall",
            street_address="The Headrow",
            locality="Leeds",
            postal_code="LS1 3AD",
            country="United Kingdom",
            latitude=53.80004,
            longitude=-1.54921,
        ),
        "capacity": 120,
        "going": 3,
        "banner_url": "https://copnet.test/static/banner.png",
        "published": datetime(2027, 1, 1, tzinfo=UTC),
        "updated": datetime(2027, 1, 2, tzinfo=UTC),
        "attendees_url": "https://copnet.test/b/7/attendees",
    }
    return EventFacts(**{**values, **overrides})


def test_the_event_carries_every_applicable_field_of_mobilizons_event():
    fixture = load_fixture(MOBILIZON_EVENT)
    document = event_document(facts(online_url="https://meet.example/basecamp"))
    missing = set(fixture) - NOT_APPLICABLE - set(document)
    assert missing == set()
    assert set(fixture["location"]) - {"id"} <= set(document["location"])
    assert set(fixture["location"]["address"]) == set(document["location"]["address"])
    # Same meaning, same JSON-LD terms: every Mobilizon term we use maps to the same IRI.
    ours, theirs = document["@context"][1], fixture["@context"][2]
    for term in set(ours) & set(theirs):
        assert ours[term] == theirs[term], term


def test_the_event_has_fep_8a8e_required_fields_and_statuses():
    document = event_document(facts())
    assert FEP_8A8E_REQUIRED <= set(document)
    assert document["type"] == "Event"
    assert document["name"] and "<" not in document["name"]
    assert datetime.fromisoformat(document["endTime"]) > datetime.fromisoformat(
        document["startTime"]
    )
    assert document["organizers"]["type"] == "Collection"
    assert document["organizers"]["items"] == [
        "https://copnet.test/c/network",
        "https://copnet.test/c/nursing",
        "https://copnet.test/c/dementia",
    ]
    assert document["eventStatus"] == "EventScheduled"
    assert document["ical:status"] == "CONFIRMED"
    assert document["attendees"] == {
        "type": "Collection",
        "id": "https://copnet.test/b/7/attendees",
        "totalItems": 3,
    }
    context = document["@context"][1]
    for term in ("organizers", "attendees", "eventStatus", "timezone", "joinMode", "location"):
        assert term in context
    cancelled = event_document(facts(status=CANCELLED))
    assert cancelled["ical:status"] == "CANCELLED"
    assert cancelled["eventStatus"] == "EventCancelled"
    assert cancelled["summary"].startswith("CANCELLED.")


def test_times_carry_the_local_offset_and_the_iana_zone():
    document = event_document(facts())
    assert document["startTime"] == "2027-03-29T10:00:00+01:00"
    assert document["endTime"] == "2027-03-29T16:30:00+01:00"
    assert document["timezone"] == "Europe/London"
    winter = event_document(
        facts(
            start=datetime(2027, 3, 27, 10, tzinfo=UTC), end=datetime(2027, 3, 27, 16, tzinfo=UTC)
        )
    )
    assert winter["startTime"] == "2027-03-27T10:00:00+00:00"


def test_mastodon_readers_get_when_and_where_in_the_summary():
    summary = event_document(facts())["summary"]
    assert summary == (
        "Monday 29 March 2027, 10:00\u201316:30 BST. "
        "Leeds Town Hall, The Headrow, Leeds, LS1 3AD. "
        "Hosted by Nursing Practice and Dementia Care."
    )


def test_capacity_participants_and_mobilizon_join_fields():
    document = event_document(facts())
    assert document["joinMode"] == "free"
    assert document["participantCount"] == 3
    assert document["maximumAttendeeCapacity"] == 120
    assert document["remainingAttendeeCapacity"] == 117
    assert document["anonymousParticipationEnabled"] is False
    assert document["commentsEnabled"] is True
    unlimited = event_document(facts(capacity=None))
    assert unlimited["maximumAttendeeCapacity"] == 0
    assert unlimited["remainingAttendeeCapacity"] is None


def test_location_is_a_place_with_a_postal_address_or_a_virtual_location():
    place = event_document(facts())["location"]
    assert place["type"] == "Place"
    assert place["address"]["type"] == "PostalAddress"
    assert place["address"]["postalCode"] == "LS1 3AD"
    assert (place["latitude"], place["longitude"]) == (53.80004, -1.54921)
    online = event_document(facts(place=Place(), online_url="https://meet.example/b"))
    assert online["location"] == {
        "type": "VirtualLocation",
        "name": "Online",
        "url": "https://meet.example/b",
    }
    assert online["isOnline"] is True
    assert {
        "type": "Link",
        "name": "Website",
        "mediaType": "text/html",
        "href": "https://meet.example/b",
    } in online["attachment"]


def test_the_mobilizon_fixture_parses_back():
    event = parse_event(load_fixture(MOBILIZON_EVENT))
    assert event.name == "Caledonian scottish dance class"
    assert event.start == datetime(2022, 12, 11, 19, tzinfo=UTC)
    assert event.end == datetime(2022, 12, 11, 21, tzinfo=UTC)
    assert event.timezone == "Europe/London"
    assert event.place.name == "The Kenn Centre"
    assert event.place.postal_code == "EX6 7TW"
    assert event.place.latitude == pytest.approx(50.66881615)
    assert event.status == "CONFIRMED"
    assert event.capacity is None  # Mobilizon's 0 means "no limit"
    assert event.attributed_to == ["https://rendezvous.nomagic.uk/@devon_caledonian_society"]
    assert event.actor == "https://rendezvous.nomagic.uk/@emorrp1"
    assert event.banner_url.startswith("https://rendezvous.nomagic.uk/media/")
    assert event.is_public


def test_our_own_event_parses_back_to_the_same_facts():
    event = parse_event(event_document(facts(online_url="https://meet.example/b")))
    assert (event.start, event.end) == (facts().start, facts().end)
    assert event.place == facts().place
    assert event.online_url == "https://meet.example/b"
    assert event.capacity == 120


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "Note", "id": "https://a.example/1"},
        {"type": "Event", "id": "https://a.example/1", "startTime": "2027-01-01T10:00:00Z"},
        {"type": "Event", "id": "https://a.example/1", "name": "No time"},
        {"type": "Event", "name": "No id", "startTime": "2027-01-01T10:00:00Z"},
    ],
)
def test_unusable_events_are_refused(broken):
    with pytest.raises(InvalidActivity):
        parse_event(broken)


def test_the_poll_is_a_question_mastodon_can_render():
    poll = PollFacts(
        id="https://copnet.test/b/7/poll",
        event_id="https://copnet.test/b/7",
        event_url="https://copnet.test/b/7",
        attributed_to="https://copnet.test/c/network",
        followers="https://copnet.test/c/network/followers",
        content_html="<p>Are you coming?</p>",
        tallies={"going": 2, "declined": 1},
        closes=datetime(2027, 3, 29, 9, tzinfo=UTC),
        closed=None,
    )
    document = question_document(poll)
    assert document["type"] == "Question"
    assert [(o["name"], o["replies"]["totalItems"]) for o in document["oneOf"]] == [
        ("Going", 2),
        ("Maybe", 0),
        ("Can't go", 1),
    ]
    assert document["endTime"] == "2027-03-29T09:00:00Z"
    assert document["votersCount"] == 3
    assert "closed" not in document
    closed = question_document(PollFacts(**{**poll.__dict__, "closed": poll.closes}))
    assert closed["closed"] == "2027-03-29T09:00:00Z"
    # Called off early: `closed` says when, `endTime` stays (GoToSocial keeps the votes).
    early = datetime(2027, 3, 1, 12, tzinfo=UTC)
    cancelled = question_document(PollFacts(**{**poll.__dict__, "closed": early}))
    assert (cancelled["endTime"], cancelled["closed"]) == (
        document["endTime"],
        "2027-03-01T12:00:00Z",
    )


def test_a_mastodon_vote_is_recognised_and_a_reply_is_not():
    vote = {
        "id": "https://mastodon.example/users/alice#votes/3",
        "type": "Note",
        "name": "Going",
        "attributedTo": "https://mastodon.example/users/alice",
        "inReplyTo": "https://copnet.test/b/7/poll",
        "to": "https://copnet.test/c/network",
    }
    assert is_poll_vote(vote)
    assert not is_poll_vote({**vote, "content": "<p>Looking forward to it!</p>"})
    assert not is_poll_vote({**vote, "name": ""})
    assert not is_poll_vote({**vote, "type": "Event"})
    assert is_event({"type": "Event"}) and not is_event({"type": "Note"})


def test_wall_times_in_words_across_a_daylight_saving_change():
    before = describe_when(
        datetime(2027, 3, 27, 10, tzinfo=UTC),
        datetime(2027, 3, 27, 12, tzinfo=UTC),
        "Europe/London",
    )
    after = describe_when(
        datetime(2027, 3, 29, 9, tzinfo=UTC), datetime(2027, 3, 29, 11, tzinfo=UTC), "Europe/London"
    )
    assert before == "Saturday 27 March 2027, 10:00\u201312:00 GMT"
    assert after == "Monday 29 March 2027, 10:00\u201312:00 BST"
    overnight = describe_when(
        datetime(2027, 6, 1, 18, tzinfo=UTC), datetime(2027, 6, 2, 8, tzinfo=UTC), "Europe/London"
    )
    assert overnight == "Tuesday 1 June 2027, 19:00 BST \u2013 Wednesday 2 June 2027, 09:00 BST"
