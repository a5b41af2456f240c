"""Basecamp calendars (.ics) parse back with icalendar, with the right instants across DST."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar
import pytest

from models.event_queries import get_event
from server.app import create_app
from server.appkeys import URLS, WRITE_SESSIONS
from server.services.basecamp_input import parse_input
from server.services.basecamps import cancel_basecamp, create_basecamp, update_basecamp
from tests.support.instances import add_community, settings_for

BASE = "https://copnet.test"
NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def fields(name: str, day: str, **overrides) -> dict[str, str]:
    return {
        "name": name,
        "start": f"{day} 10:00",
        "end": f"{day} 12:00",
        "timezone": "Europe/London",
        "place_name": "Leeds Town Hall",
        "street_address": "The Headrow",
        "locality": "Leeds",
        "postal_code": "LS1 3AD",
        "latitude": "53.80004",
        "longitude": "-1.54921",
        **overrides,
    }


@pytest.fixture
async def site(aiohttp_client, database_url):
    app = create_app(settings_for(database_url, url=BASE))
    client = await aiohttp_client(app)
    await add_community(app, "nursing", "Nursing Practice")
    await add_community(app, "dementia", "Dementia Care")
    return app, client


async def organise(app, name: str, day: str, hosts=("nursing",), **overrides) -> int:
    async with app[WRITE_SESSIONS].begin() as session:
        data = parse_input(fields(name, day, **overrides), list(hosts))
        event = await create_basecamp(session, app[URLS], data, creator_id=None, now=NOW)
    return event.id


async def fetch(client, path: str) -> icalendar.Calendar:
    response = await client.get(path)
    assert response.status == 200
    assert response.content_type == "text/calendar"
    return icalendar.Calendar.from_ical(await response.read())


def only_event(calendar: icalendar.Calendar) -> icalendar.Event:
    (event,) = calendar.walk("VEVENT")
    return event


async def test_times_are_right_on_each_side_of_the_clocks_going_forward(site):
    app, client = site
    before = await organise(app, "Saturday session", "2027-03-27")  # GMT
    after = await organise(app, "Monday session", "2027-03-29")  # BST from 28 March
    for event_id, start, end in (
        (before, datetime(2027, 3, 27, 10, tzinfo=UTC), datetime(2027, 3, 27, 12, tzinfo=UTC)),
        (after, datetime(2027, 3, 29, 9, tzinfo=UTC), datetime(2027, 3, 29, 11, tzinfo=UTC)),
    ):
        calendar = await fetch(client, f"/b/{event_id}.ics")
        event = only_event(calendar)
        assert event["DTSTART"].params["TZID"] == "Europe/London"
        assert event.decoded("DTSTART").astimezone(UTC) == start
        assert event.decoded("DTEND").astimezone(UTC) == end
        assert event.decoded("DTSTART").strftime("%H:%M") == "10:00"  # the wall time kept
        assert [tz["TZID"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]


async def test_a_basecamp_has_the_fields_a_calendar_needs(site):
    app, client = site
    event_id = await organise(app, "Basecamp Leeds", "2027-03-27", capacity="40")
    event = only_event(await fetch(client, f"/b/{event_id}.ics"))
    assert str(event["UID"]) == f"{BASE}/b/{event_id}"
    assert event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED"
    assert str(event["SUMMARY"]) == "Basecamp Leeds"
    assert str(event["URL"]) == f"{BASE}/b/{event_id}"
    assert str(event["LOCATION"]) == "Leeds Town Hall, The Headrow, Leeds, LS1 3AD"
    assert event["GEO"].latitude == pytest.approx(53.80004)
    assert event["GEO"].longitude == pytest.approx(-1.54921)
    assert event.decoded("DTSTAMP") == NOW
    assert "Hosted by Nursing Practice" in str(event["DESCRIPTION"])


async def test_uid_is_stable_sequence_rises_and_a_cancellation_is_marked(site):
    app, client = site
    event_id = await organise(app, "Basecamp Leeds", "2027-03-27")
    first = only_event(await fetch(client, f"/b/{event_id}.ics"))
    moved = datetime(2026, 12, 2, tzinfo=UTC)
    async with app[WRITE_SESSIONS].begin() as session:
        event = await get_event(session, event_id)
        data = parse_input(fields("Basecamp Leeds", "2027-03-29"), ["nursing"])
        await update_basecamp(session, app[URLS], event, data, now=moved)
    second = only_event(await fetch(client, f"/b/{event_id}.ics"))
    assert second["UID"] == first["UID"]
    assert second["SEQUENCE"] == 1
    assert second.decoded("DTSTART").astimezone(UTC) == datetime(2027, 3, 29, 9, tzinfo=UTC)
    assert second.decoded("DTSTAMP") == moved
    async with app[WRITE_SESSIONS].begin() as session:
        event = await get_event(session, event_id)
        await cancel_basecamp(session, app[URLS], event, now=datetime(2026, 12, 3, tzinfo=UTC))
    third = only_event(await fetch(client, f"/b/{event_id}.ics"))
    assert (third["UID"], third["SEQUENCE"], third["STATUS"]) == (first["UID"], 2, "CANCELLED")


async def test_network_and_community_feeds_list_the_right_basecamps(site):
    app, client = site
    nursing = await organise(app, "Nursing day", "2027-03-27")
    both = await organise(app, "Joint day", "2027-04-10", hosts=("nursing", "dementia"))
    dementia = await organise(app, "Dementia day", "2027-05-01", hosts=("dementia",))
    network = await fetch(client, "/basecamps.ics")
    assert [str(e["SUMMARY"]) for e in network.walk("VEVENT")] == [
        "Nursing day",
        "Joint day",
        "Dementia day",
    ]
    assert network["X-WR-CALNAME"] == "copnet Basecamps"
    cop = await fetch(client, "/c/nursing/basecamps.ics")
    assert [str(e["UID"]) for e in cop.walk("VEVENT")] == [
        f"{BASE}/b/{nursing}",
        f"{BASE}/b/{both}",
    ]
    assert f"{BASE}/b/{dementia}" not in (
        await (await client.get("/c/nursing/basecamps.ics")).text()
    )
    assert (await client.get("/c/nobody/basecamps.ics")).status == 404
