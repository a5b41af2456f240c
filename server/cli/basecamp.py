"""`copnet basecamp create|update|cancel|list`: organise Basecamps from the command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from models.base import utcnow
from models.event_queries import get_event, hosts_of, list_events
from server.cli.commands import open_session
from server.services.basecamp_input import InvalidBasecamp, fields_of, parse_input
from server.services.basecamps import cancel_basecamp, create_basecamp, update_basecamp
from server.settings import Settings
from server.urls import Urls

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]

# (option, form field, help); every one is optional on update.
OPTIONS = (
    ("--name", "name", "what it is called"),
    ("--description", "description", "what will happen (markdown)"),
    ("--start", "start", "local start, 'YYYY-MM-DD HH:MM'"),
    ("--end", "end", "local end, 'YYYY-MM-DD HH:MM'"),
    ("--timezone", "timezone", "IANA zone of those times (default Europe/London)"),
    ("--place", "place_name", "venue name, e.g. 'Leeds Town Hall'"),
    ("--street", "street_address", "street address"),
    ("--locality", "locality", "town or city"),
    ("--region", "region", "county or region"),
    ("--postcode", "postal_code", "postcode"),
    ("--country", "country", "country"),
    ("--lat", "latitude", "latitude, for the map"),
    ("--lon", "longitude", "longitude, for the map"),
    ("--online-url", "online_url", "video call or stream link"),
    ("--capacity", "capacity", "number of places (omit for no limit)"),
    ("--banner-url", "banner_url", "banner image URL"),
    ("--category", "category", "FEP-8a8e category, e.g. MEETING or LEARNING"),
)


def add_basecamp_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `basecamp create|update|cancel|list` on the top-level subparsers."""
    basecamp = subparsers.add_parser(
        "basecamp",
        help="organise Basecamps (gatherings hosted by CoPs)",
        description="Basecamps are federated as Events by the Network actor and announced by "
        "their hosting CoPs; running workers deliver them within seconds.",
    )
    actions = basecamp.add_subparsers(dest="action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="announce a new Basecamp")
    _add_options(create)
    create.set_defaults(handler=_blocking(create_command))

    update = actions.add_parser("update", help="change a Basecamp (only the options given)")
    update.add_argument("id", type=int, help="the Basecamp's number, as `list` shows it")
    _add_options(update)
    update.set_defaults(handler=_blocking(update_command))

    cancel = actions.add_parser("cancel", help="call a Basecamp off (federated)")
    cancel.add_argument("id", type=int, help="the Basecamp's number")
    cancel.set_defaults(handler=_blocking(cancel_command))

    listing = actions.add_parser("list", help="print Basecamps, tab-separated")
    listing.add_argument("--past", action="store_true", help="past ones instead of upcoming")
    listing.set_defaults(handler=_blocking(list_command))


def _add_options(parser: argparse.ArgumentParser) -> None:
    for option, dest, text in OPTIONS:
        parser.add_argument(option, dest=dest, help=text)
    parser.add_argument(
        "--host",
        dest="hosts",
        action="append",
        metavar="COP",
        help="name of a hosting CoP (repeat for several)",
    )


def _blocking(command: Command) -> Callable[[Settings, argparse.Namespace], int]:
    # server/cli/main.py calls handlers synchronously and imports this module, so no import back.
    def handler(settings: Settings, args: argparse.Namespace) -> int:
        return asyncio.run(command(settings, args))

    return handler


def _given(args: argparse.Namespace) -> dict[str, str]:
    return {
        dest: value for _opt, dest, _help in OPTIONS if (value := getattr(args, dest)) is not None
    }


async def create_command(settings: Settings, args: argparse.Namespace) -> int:
    """Create and federate a Basecamp."""
    urls = Urls(settings.url)
    try:
        data = parse_input(_given(args), args.hosts or [])
        async with open_session(settings) as session:
            event = await create_basecamp(
                session,
                urls,
                data,
                creator_id=None,
                now=utcnow(),
                network_title=f"{settings.instance_name} Network",
            )
            await session.commit()
    except InvalidBasecamp as error:
        return _invalid(error)
    print(f"created Basecamp {event.id}: {urls.basecamp(event.id)}")
    return 0


async def update_command(settings: Settings, args: argparse.Namespace) -> int:
    """Change the given fields of a Basecamp and federate the Update."""
    urls = Urls(settings.url)
    try:
        async with open_session(settings) as session:
            event = await get_event(session, args.id)
            if event is None or not event.is_basecamp:
                return _fail(f"no Basecamp {args.id}")
            if event.is_cancelled:
                return _fail(f"Basecamp {args.id} was cancelled")
            hosts = (await hosts_of(session, [event.id]))[event.id]
            fields = {**fields_of(event, hosts), **_given(args)}
            names = args.hosts if args.hosts is not None else fields["hosts"].split()
            await update_basecamp(session, urls, event, parse_input(fields, names), now=utcnow())
            await session.commit()
    except InvalidBasecamp as error:
        return _invalid(error)
    print(f"updated Basecamp {event.id} (sequence {event.sequence})")
    return 0


async def cancel_command(settings: Settings, args: argparse.Namespace) -> int:
    """Cancel a Basecamp."""
    async with open_session(settings) as session:
        event = await get_event(session, args.id)
        if event is None or not event.is_basecamp:
            return _fail(f"no Basecamp {args.id}")
        await cancel_basecamp(session, Urls(settings.url), event, now=utcnow())
        await session.commit()
    print(f"cancelled Basecamp {args.id}")
    return 0


async def list_command(settings: Settings, args: argparse.Namespace) -> int:
    """Print `ID<TAB>START (UTC)<TAB>STATUS<TAB>GOING<TAB>NAME<TAB>HOSTS` per event."""
    async with open_session(settings) as session:
        events = await list_events(session, now=utcnow(), upcoming=not args.past, limit=1000)
        hosts = await hosts_of(session, [event.id for event in events])
    if not events:
        print("no past Basecamps" if args.past else "no upcoming Basecamps")
    for event in events:
        names = ",".join(h.actor.local_name or "" for h in hosts[event.id])
        start = event.starts_at.strftime("%Y-%m-%d %H:%MZ")
        print(
            f"{event.id}\t{start}\t{event.status}\t{event.participant_count}\t{event.name}\t{names}"
        )
    return 0


def _invalid(error: InvalidBasecamp) -> int:
    for field, problem in error.errors.items():
        print(f"copnet: error: {field}: {problem}", file=sys.stderr)
    return 1


def _fail(message: str) -> int:
    print(f"copnet: error: {message}", file=sys.stderr)
    return 1
