"""The demo's Basecamp: a day in Leeds hosted by two of the demo CoPs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.communities import get_community
from models.events import Event
from server.services.basecamp_input import parse_input
from server.services.basecamps import create_basecamp
from server.urls import Urls

DEMO_NAME = "Basecamp Leeds: learning from each other"
DEMO_DESCRIPTION = """\
A day together for the Network's communities in the North of England.

- **Morning:** short talks from ward nurses and social workers on what changed their practice
- **Lunch:** provided; tell us about dietary needs when you RSVP
- **Afternoon:** open-space sessions chosen on the day

Step-free access from The Headrow entrance; hearing loop in the Albert Room.
"""


async def seed_demo_basecamp(
    session: AsyncSession,
    urls: Urls,
    *,
    now: datetime,
    hosts: Sequence[str] = ("nursing_practice", "dementia_care"),
) -> Event | None:
    """Create the demo's upcoming Basecamp in Leeds (once); None if it already exists."""
    existing = await session.scalar(select(Event).where(Event.name == DEMO_NAME))
    if existing is not None:
        return None
    tz = ZoneInfo("Europe/London")
    day = (now + timedelta(days=21)).astimezone(tz).date()
    day += timedelta(days=(5 - day.weekday()) % 7)  # the Saturday three weeks or so ahead
    present = [name for name in hosts if await get_community(session, name) is not None]
    data = parse_input(
        {
            "name": DEMO_NAME,
            "description": DEMO_DESCRIPTION,
            "start": f"{day.isoformat()} 10:00",
            "end": f"{day.isoformat()} 16:00",
            "timezone": "Europe/London",
            "place_name": "Leeds Town Hall, Albert Room",
            "street_address": "The Headrow",
            "locality": "Leeds",
            "region": "West Yorkshire",
            "postal_code": "LS1 3AD",
            "country": "United Kingdom",
            "latitude": "53.80004",
            "longitude": "-1.54921",
            "capacity": "120",
            "category": "LEARNING",
        },
        present,
    )
    return await create_basecamp(session, urls, data, creator_id=None, now=now)
