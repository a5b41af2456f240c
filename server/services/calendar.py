"""Basecamps as iCalendar (RFC 5545): one per Basecamp and subscribable feeds.

Times are written in the Basecamp's own zone (`DTSTART;TZID=Europe/London:...`) with a
generated VTIMEZONE, so calendars keep the wall time across daylight-saving changes. `UID` is
the event's ActivityPub id, stable across edits; `SEQUENCE` is bumped by every edit and
`STATUS:CANCELLED` tells subscribed calendars to strike it out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import icalendar

from federation.event_time import zone
from federation.event_vocab import CANCELLED, CONFIRMED, TENTATIVE
from models.communities import Community
from models.events import Event
from server.services.basecamp_documents import event_ap_id
from server.services.content import html_to_text
from server.urls import Urls

ICS_MEDIA_TYPE = "text/calendar"
PRODID = "-//copnet//Basecamps//EN"
REFRESH = timedelta(hours=1)


def event_component(urls: Urls, event: Event, hosts: Sequence[Community] = ()) -> icalendar.Event:
    """One VEVENT for an event, in its own time zone."""
    tz = zone(event.timezone)
    page = event.url or urls.basecamp(event.id)
    component = icalendar.Event()
    component.add("uid", event_ap_id(urls, event))
    component.add("sequence", event.sequence)
    component.add("dtstamp", event.updated)
    component.add("created", event.published)
    component.add("last-modified", event.updated)
    component.add("dtstart", event.starts_at.astimezone(tz))
    component.add("dtend", event.ends_at.astimezone(tz))
    component.add("summary", event.name)
    component.add("description", _description(event, hosts, page))
    component.add("url", page)
    component.add("status", event.status if event.status in (CANCELLED, TENTATIVE) else CONFIRMED)
    component.add("categories", [event.category])
    location = ", ".join(part for part in (event.place_name, event.address_line) if part)
    if location or event.online_url:
        component.add("location", location or event.online_url)
    if event.latitude is not None and event.longitude is not None:
        component.add("geo", (event.latitude, event.longitude))
    return component


def _description(event: Event, hosts: Sequence[Community], page: str) -> str:
    parts = [html_to_text(event.description_html).strip()]
    if hosts:
        parts.append(
            "Hosted by " + ", ".join(h.actor.display_name or h.actor.username for h in hosts)
        )
    if event.online_url:
        parts.append(f"Online: {event.online_url}")
    parts.append(page)
    return "\n\n".join(part for part in parts if part)


def calendar_bytes(
    urls: Urls,
    entries: Sequence[tuple[Event, Sequence[Community]]],
    *,
    name: str,
) -> bytes:
    """A VCALENDAR with one VEVENT per entry and the VTIMEZONEs they use."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")  # Outlook's refresh hint
    for event, hosts in entries:
        calendar.add_component(event_component(urls, event, hosts))
    calendar.add_missing_timezones()
    return calendar.to_ical()
