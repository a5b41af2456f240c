"""Members who said yes to a Basecamp hear when it moves, changes or is called off, and get the
reminder the day before; the organiser who made the change is not told of it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import account_queries as accounts
from models.event_queries import get_event
from models.events import GOING, MAYBE
from models.notifications import (
    BASECAMP_CANCELLED,
    BASECAMP_CHANGED,
    BASECAMP_REMINDER,
    Notification,
)
from server.services.basecamp_rsvps import record_rsvp
from server.services.basecamps import cancel_basecamp, update_basecamp
from tests.server.test_basecamp_reminders import (
    NOW,
    START,
    URLS,
    Clock,
    basecamp,
    db,  # noqa: F401 (the fixture)
    organise,
    scheduler,
)


async def people(sessions, event_id: int, answers: dict[str, str]) -> dict[str, int]:
    """Accounts that answered the Basecamp's RSVP; returns name -> actor id."""
    ids = {}
    async with sessions.begin() as session:
        for name, role in answers.items():
            account = await accounts.create_account(session, name, "-", display_name=name)
            ids[name] = account.actor_id
            if role:
                await record_rsvp(
                    session,
                    event_id,
                    actor_id=account.actor_id,
                    role=role,
                    via="web",
                    activity_ap_id=None,
                    now=NOW,
                )
    return ids


async def told(sessions, actor_id: int) -> list[tuple[str, str]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Notification)
            .where(Notification.account_id == actor_id)
            .order_by(Notification.id)
        )
        return [(row.kind, row.detail) for row in rows]


async def drain(worker) -> None:
    while await worker.run_once():
        pass


async def test_a_move_and_a_cancellation_reach_those_going_but_not_the_organiser(db):  # noqa: F811
    engine, sessions = db
    event_id = await organise(sessions)
    ids = await people(sessions, event_id, {"gail": GOING, "max": MAYBE, "org": GOING, "nia": ""})
    worker = scheduler(engine, sessions, Clock(NOW))
    async with sessions.begin() as session:
        event = await get_event(session, event_id)
        await update_basecamp(session, URLS, event, basecamp("2027-04-03"), now=NOW, by=ids["org"])
    await drain(worker)
    (moved,) = await told(sessions, ids["gail"])
    assert moved[0] == BASECAMP_CHANGED and moved[1].startswith("now Saturday 3 April 2027")
    assert await told(sessions, ids["max"]) == []  # only a yes is a promise to come
    assert await told(sessions, ids["nia"]) == []
    assert await told(sessions, ids["org"]) == []  # they made the change
    async with sessions.begin() as session:
        event = await get_event(session, event_id)
        await cancel_basecamp(session, URLS, event, now=NOW, by=ids["org"])
    await drain(worker)
    assert [kind for kind, _ in await told(sessions, ids["gail"])] == [
        BASECAMP_CHANGED,
        BASECAMP_CANCELLED,
    ]
    assert await told(sessions, ids["org"]) == []


async def test_the_reminder_notifies_those_going_once(db):  # noqa: F811
    engine, sessions = db
    event_id = await organise(sessions)
    ids = await people(sessions, event_id, {"gail": GOING, "max": MAYBE})
    clock = Clock(START - timedelta(days=1))
    await drain(scheduler(engine, sessions, clock))
    assert await told(sessions, ids["gail"]) == [(BASECAMP_REMINDER, "")]
    assert await told(sessions, ids["max"]) == []
    clock.now += timedelta(hours=1)
    await drain(scheduler(engine, sessions, clock))
    assert len(await told(sessions, ids["gail"])) == 1
