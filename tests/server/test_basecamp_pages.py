"""Basecamps on the website: organisers' forms, the page with RSVP buttons, listings, panel."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import aiohttp_jinja2
import pytest
from sqlalchemy import select

from models.account_queries import create_account
from models.base import utcnow
from models.communities import CommunityModerator, get_community
from models.events import Event
from models.web_sessions import create_session
from server.app import create_app
from server.appkeys import SESSIONS
from server.web.basecamp_panel import basecamp_panel
from tests.support.instances import add_community, settings_for

AS2 = "application/activity+json"
BASE = "https://copnet.test"


@dataclass
class Browser:
    client: object
    cookie: str
    csrf: str

    async def get(self, path: str, **headers):
        return await self.client.get(
            path, headers={"Cookie": self.cookie, **headers}, allow_redirects=False
        )

    async def post(self, path: str, data, *, csrf: str | None = None):
        body = list(data.items()) if isinstance(data, dict) else list(data)
        body.append(("csrf_token", self.csrf if csrf is None else csrf))
        return await self.client.post(
            path, data=body, headers={"Cookie": self.cookie}, allow_redirects=False
        )


@dataclass
class Site:
    app: object
    client: object
    admin: Browser
    moderator: Browser
    member: Browser

    async def events(self) -> list[Event]:
        async with self.app[SESSIONS]() as session:
            return list(await session.scalars(select(Event).order_by(Event.id)))


async def _browser(app, client, name: str, *, admin=False, moderates: str | None = None):
    async with app[SESSIONS]() as session:
        account = await create_account(
            session, name, "not-a-real-hash", is_admin=admin, display_name=name.title()
        )
        token, row = await create_session(session, account.actor_id)
        if moderates:
            community = await get_community(session, moderates)
            session.add(
                CommunityModerator(community_id=community.actor_id, actor_id=account.actor_id)
            )
        await session.commit()
    return Browser(client, f"copnet_session={token}", row.csrf_token)


@pytest.fixture
async def site(aiohttp_client, database_url) -> Site:
    app = create_app(settings_for(database_url, url=BASE))
    client = await aiohttp_client(app)
    await add_community(app, "nursing", "Nursing Practice")
    await add_community(app, "dementia", "Dementia Care")
    admin = await _browser(app, client, "ada", admin=True)
    moderator = await _browser(app, client, "mo", moderates="nursing")
    member = await _browser(app, client, "mel")
    return Site(app, client, admin, moderator, member)


def form(**overrides) -> list[tuple[str, str]]:
    day = (utcnow() + timedelta(days=40)).date().isoformat()
    values = {
        "name": "Basecamp Leeds",
        "description": "A *day* together.",
        "start": f"{day}T10:00",
        "end": f"{day}T16:00",
        "timezone": "Europe/London",
        "place_name": "Leeds Town Hall",
        "street_address": "The Headrow",
        "locality": "Leeds",
        "postal_code": "LS1 3AD",
        "country": "United Kingdom",
        "latitude": "53.80004",
        "longitude": "-1.54921",
        "capacity": "2",
        "category": "LEARNING",
        **{k: v for k, v in overrides.items() if k != "hosts"},
    }
    return [*values.items(), *(("hosts", h) for h in overrides.get("hosts", ["nursing"]))]


async def created(response) -> int:
    assert response.status == 303, await response.text()
    return int(response.headers["Location"].removeprefix("/b/"))


async def test_a_moderator_organises_a_basecamp_for_their_community(site):
    page = await site.moderator.get("/basecamps/new")
    assert page.status == 200
    text = await page.text()
    assert 'value="nursing"' in text and 'value="dementia"' not in text
    event_id = await created(await site.moderator.post("/basecamps/new", form()))
    (event,) = await site.events()
    assert event.id == event_id
    assert (event.name, event.capacity, event.category) == ("Basecamp Leeds", 2, "LEARNING")
    assert "<em>day</em>" in event.description_html
    page = await (await site.member.get(f"/b/{event_id}")).text()
    assert "Basecamp Leeds" in page
    assert "openstreetmap.org/?mlat=53.80004&amp;mlon=-1.54921" in page
    assert f'href="/b/{event_id}.ics"' in page
    assert "Nursing Practice" in page
    assert 'name="role" value="going"' in page
    assert "Edit this Basecamp" not in page  # only organisers


async def test_only_admins_and_moderators_organise_and_only_for_their_cops(site):
    assert (await site.member.get("/basecamps/new")).status == 403
    assert (await site.member.post("/basecamps/new", form())).status == 403
    response = await site.moderator.post("/basecamps/new", form(hosts=["dementia"]))
    assert response.status == 400
    assert "You do not moderate dementia" in await response.text()
    assert await site.events() == []
    # An admin may name any CoP.
    await created(await site.admin.post("/basecamps/new", form(hosts=["dementia", "nursing"])))


async def test_form_errors_are_shown_and_nothing_is_created(site):
    response = await site.admin.post(
        "/basecamps/new",
        form(name="", start="2027-03-28T01:30", end="2027-03-28T03:00", timezone="Europe/London"),
    )
    assert response.status == 400
    text = await response.text()
    assert "Give the Basecamp a name." in text
    assert "That time does not exist there" in text  # 01:30 is skipped when clocks go forward
    response = await site.admin.post("/basecamps/new", form(timezone="Mars/Olympus"))
    assert "Use a time zone name" in await response.text()
    assert await site.events() == []


async def test_members_answer_and_capacity_is_kept(site):
    event_id = await created(await site.admin.post("/basecamps/new", form(capacity="1")))
    assert (await site.member.post(f"/b/{event_id}/rsvp", {"role": "going"})).status == 303
    page = await (await site.member.get(f"/b/{event_id}")).text()
    assert "1 going" in page and "0 of 1 places left" in page
    assert 'value="going" aria-pressed="true"' in page
    full = await site.moderator.post(f"/b/{event_id}/rsvp", {"role": "going"})
    assert full.status == 409
    assert "every place is taken" in await full.text()
    assert (await site.moderator.post(f"/b/{event_id}/rsvp", {"role": "maybe"})).status == 303
    assert (await site.member.post(f"/b/{event_id}/rsvp", {"role": "none"})).status == 303
    page = await (await site.member.get(f"/b/{event_id}")).text()
    assert "0 going" in page and "1 maybe" in page
    forged = await site.member.post(f"/b/{event_id}/rsvp", {"role": "going"}, csrf="x" * 43)
    assert forged.status == 403


async def test_organisers_edit_and_cancel(site):
    event_id = await created(await site.moderator.post("/basecamps/new", form()))
    edit_page = await (await site.moderator.get(f"/b/{event_id}/edit")).text()
    assert 'value="Basecamp Leeds"' in edit_page and 'value="nursing" checked' in edit_page
    assert (await site.member.get(f"/b/{event_id}/edit")).status == 403
    response = await site.moderator.post(f"/b/{event_id}/edit", form(name="Basecamp Leeds 2027"))
    assert response.status == 303
    (event,) = await site.events()
    assert (event.name, event.sequence) == ("Basecamp Leeds 2027", 1)
    assert (await site.member.post(f"/b/{event_id}/cancel", {"confirm": "yes"})).status == 403
    asked = await site.moderator.post(f"/b/{event_id}/cancel", {})
    assert asked.status == 200 and "Cancel this Basecamp?" in await asked.text()
    (event,) = await site.events()
    assert event.status != "CANCELLED"  # nothing happens before the confirmation
    confirmed = await site.moderator.post(f"/b/{event_id}/cancel", {"confirm": "yes"})
    assert confirmed.status == 303
    (event,) = await site.events()
    assert (event.status, event.sequence) == ("CANCELLED", 2)
    page = await (await site.member.get(f"/b/{event_id}")).text()
    assert "This Basecamp has been cancelled." in page
    assert 'name="role"' not in page


async def test_the_listing_the_panel_and_the_as2_event(site):
    event_id = await created(await site.admin.post("/basecamps/new", form()))
    listing = await (await site.member.get("/basecamps")).text()
    assert f'href="/b/{event_id}"' in listing and "Subscribe in your calendar" in listing
    async with site.app[SESSIONS]() as session:
        nursing = await get_community(session, "nursing")
        dementia = await get_community(session, "dementia")
        home = await basecamp_panel(session)
        nursing_panel = await basecamp_panel(session, community=nursing)
        dementia_panel = await basecamp_panel(session, community=dementia)
    assert [card.event.id for card in home.upcoming] == [event_id]
    assert [card.event.id for card in nursing_panel.upcoming] == [event_id]
    assert dementia_panel.upcoming == []
    template = aiohttp_jinja2.get_env(site.app).get_template("_upcoming_basecamps.html")
    html = template.render(basecamps=nursing_panel)
    assert "Basecamp Leeds" in html and "/c/nursing/basecamps.ics" in html
    assert "No Basecamps planned yet." in template.render(basecamps=dementia_panel)
    document = await (await site.client.get(f"/b/{event_id}", headers={"Accept": AS2})).json(
        content_type=None
    )
    assert document["type"] == "Event" and document["id"] == f"{BASE}/b/{event_id}"
    attendees = await (await site.client.get(f"/b/{event_id}/attendees")).json(content_type=None)
    assert attendees["totalItems"] == 0
    poll = await site.client.get(
        f"/b/{event_id}/poll", allow_redirects=False, headers={"Accept": "text/html"}
    )
    assert poll.headers["Location"] == f"/b/{event_id}"
