"""`copnet member delete` and `copnet member list`: admins removing a member, seeing who is active.

Deleting from the command line does what the member's own "Delete your account" does: a
`Delete{Person}` is queued to everyone who knows them, their sessions end, and their content is
tombstoned or kept under "Former member".
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from models import account_lifecycle as lifecycle
from models import account_queries as accounts
from server.cli.commands import open_session
from server.services.person_federation import queue_person_delete
from server.settings import Settings
from server.urls import Urls


def add_member_commands(member_actions: argparse._SubParsersAction) -> None:
    """Register `member delete` and `member list` beside the other `member` actions."""
    remove = member_actions.add_parser(
        "delete",
        help="delete a member's account (tells other servers; cannot be undone)",
        description="Their name stays taken. Their posts and documents are deleted (leaving "
        "placeholders in threads) or, with --content anonymise, kept as by 'Former member'.",
    )
    remove.add_argument("name", help="the member's handle")
    remove.add_argument(
        "--content",
        choices=lifecycle.CONTENT_CHOICES,
        default="remove",
        help="what happens to their posts and documents (default: remove)",
    )
    remove.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    remove.set_defaults(handler=confirmed_delete)

    listing = member_actions.add_parser("list", help="list members with when they were last seen")
    listing.set_defaults(handler=lambda settings, args: asyncio.run(list_members(settings, args)))


def confirmed_delete(settings: Settings, args: argparse.Namespace) -> int:
    """Ask before deleting (unless --yes), then delete."""
    name = args.name.strip().lstrip("@").lower()
    if not args.yes:
        if not sys.stdin.isatty():
            return _fail(
                "add --yes to delete without a question (standard input is not a terminal)"
            )
        answer = input(f"Delete @{name}@{settings.domain} and {args.content} their content? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 1
    return asyncio.run(delete_member(settings, name, args.content))


async def delete_member(settings: Settings, name: str, content: str) -> int:
    """Delete one member's account, federating a `Delete` of their Person."""
    async with open_session(settings) as session:
        member = await accounts.member_by_name(session, name)
        if member is None:
            return _fail(f"no member named {name!r}")
        inboxes = await queue_person_delete(session, member.actor, Urls(settings.url))
        removal = await lifecycle.remove_member(session, member.account.actor_id, content)
        await session.commit()
    done = "deleted" if content == "remove" else "kept as by 'Former member'"
    print(
        f"deleted @{name}@{settings.domain}: {removal.posts} post(s) and "
        f"{removal.documents} document(s) {done}; Delete queued for {inboxes} inbox(es)"
    )
    return 0


async def list_members(settings: Settings, _args: argparse.Namespace) -> int:
    """Print name, role, joined, last seen and display name, one member a line."""
    async with open_session(settings) as session:
        rows = await lifecycle.list_members(session)
    print("name\trole\tjoined\tlast seen\tdisplay name")
    for row in rows:
        seen = row.last_seen_at.strftime("%Y-%m-%d %H:%M") if row.last_seen_at else "never"
        role = "admin" if row.is_admin else "member"
        print(f"{row.name}\t{role}\t{row.created_at:%Y-%m-%d}\t{seen}\t{row.display_name}")
    return 0


def _fail(message: str) -> int:
    print(f"copnet: error: {message}", file=sys.stderr)
    return 1
