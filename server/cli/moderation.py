"""`copnet moderation ...`: an admin's moderation of any CoP from the command line.

Each command names the admin it acts as (`--by`); the actions are federated exactly as the same
action on the website, signed by that admin (Lemmy accepts a moderation activity from an admin
of the community's own instance: crates/apub/src/activities/mod.rs, verify_mod_action).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from models.accounts import Account
from models.actors import get_local_actor
from models.base import utcnow
from models.communities import Community, get_community
from models.posts import Post
from server.cli.commands import open_session
from server.services import moderation, suspensions
from server.services.moderation_people import PersonNotFound, find_person
from server.settings import Settings
from server.urls import Urls

POST_ACTIONS = ("remove", "restore", "lock", "unlock", "pin", "unpin")


def add_moderation_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `moderation remove|restore|lock|unlock|pin|unpin|ban|unban|moderator`."""
    parser = subparsers.add_parser("moderation", help="moderate CoPs (as an admin)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name in POST_ACTIONS:
        what = "post" if name in ("remove", "restore") else "thread (its top post)"
        command = actions.add_parser(name, help=f"{name} a {what}")
        command.add_argument("post", type=int, help="the post's number (as in /t/N#post-N)")
        _common(command)
        command.set_defaults(handler=_blocking(post_action))
    for name in ("ban", "unban"):
        command = actions.add_parser(name, help=f"{name} a person in a CoP")
        command.add_argument("community", help="the CoP's name")
        command.add_argument("person", help="a member's name, or @user@host of a known actor")
        _common(command)
        if name == "ban":
            command.add_argument("--days", type=int, help="how long (default: for good)")
            command.add_argument(
                "--remove-content", action="store_true", help="also remove their posts there"
            )
        command.set_defaults(handler=_blocking(ban_action))
    mod = actions.add_parser("moderator", help="add or remove a CoP's moderator")
    mod.add_argument("change", choices=("add", "remove"))
    mod.add_argument("community", help="the CoP's name")
    mod.add_argument("person", help="a member's name, or @user@host of a known actor")
    _common(mod, reason=False)
    mod.set_defaults(handler=_blocking(moderator_action))
    for name, what in (
        ("suspend", "suspend a remote account (@user@host or its URL) or a domain"),
        ("unsuspend", "lift a remote account's or a domain's suspension"),
    ):
        command = actions.add_parser(name, help=what)
        command.add_argument("target", help="@user@host, an actor URL, or a domain")
        if name == "suspend":
            command.add_argument("--reason", default="", help="why (kept with the suspension)")
            command.add_argument(
                "--purge", action="store_true", help="also delete everything it posted here"
            )
        command.set_defaults(handler=_blocking(suspension_action))


def _common(command: argparse.ArgumentParser, *, reason: bool = True) -> None:
    command.add_argument("--by", required=True, help="the admin acting (a member's name)")
    if reason:
        command.add_argument("--reason", default="", help="why (shown in the moderation log)")


def _blocking(command):
    def handler(settings: Settings, args: argparse.Namespace) -> int:
        return asyncio.run(command(settings, args))

    return handler


class _Refused(Exception):
    pass


async def _admin(session, name: str) -> int:
    actor = await get_local_actor(session, name)
    account = await session.get(Account, actor.id) if actor is not None else None
    if account is None or not account.is_admin:
        raise _Refused(f"{name!r} is not an admin of this Network")
    return actor.id


async def _run(settings: Settings, args: argparse.Namespace, work) -> int:
    try:
        async with open_session(settings) as session:
            admin_id = await _admin(session, args.by)
            await work(session, Urls(settings.url), admin_id)
            await session.commit()
    except (_Refused, moderation.NotAllowed, moderation.CannotModerate, PersonNotFound) as error:
        print(f"copnet: error: {error}", file=sys.stderr)
        return 1
    print("done")
    return 0


async def post_action(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session, urls: Urls, admin_id: int) -> None:
        post = await session.get(Post, args.post) if 0 < args.post < 2**62 else None
        community = await session.get(Community, post.community_id) if post else None
        if post is None or community is None:
            raise _Refused(f"no post {args.post} in a community of this Network")
        now = utcnow()
        if args.action in ("remove", "restore"):
            do = moderation.remove_post if args.action == "remove" else moderation.restore_post
            await do(session, urls, community, admin_id, post, args.reason, now)
        elif args.action in ("lock", "unlock"):
            locked = args.action == "lock"
            await moderation.set_locked(
                session, urls, community, admin_id, post, locked, args.reason, now
            )
        else:
            pinned = args.action == "pin"
            await moderation.set_pinned(session, urls, community, admin_id, post, pinned, now)

    return await _run(settings, args, work)


async def _community(session, name: str) -> Community:
    community = await get_community(session, name)
    if community is None:
        raise _Refused(f"no community named {name!r}")
    return community


async def ban_action(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session, urls: Urls, admin_id: int) -> None:
        community = await _community(session, args.community)
        person = await find_person(session, None, args.person)
        now = utcnow()
        if args.action == "unban":
            await moderation.unban(
                session, urls, community, admin_id, person, reason=args.reason, now=now
            )
            return
        if args.days is not None and not 0 < args.days <= 3650:
            raise _Refused("--days must be 1 to 3650")
        await moderation.ban(
            session,
            urls,
            community,
            admin_id,
            person,
            reason=args.reason,
            expires_at=now + timedelta(days=args.days) if args.days else None,
            remove_content=args.remove_content,
            now=now,
        )

    return await _run(settings, args, work)


async def moderator_action(settings: Settings, args: argparse.Namespace) -> int:
    async def work(session, urls: Urls, admin_id: int) -> None:
        community = await _community(session, args.community)
        person = await find_person(session, None, args.person)
        await moderation.set_moderator(
            session, urls, community, admin_id, person, args.change == "add", utcnow()
        )

    return await _run(settings, args, work)


async def suspension_action(settings: Settings, args: argparse.Namespace) -> int:
    """Suspend or unsuspend an account (a handle or URL) or a domain (anything else)."""
    target = args.target.strip()
    is_account = "@" in target.lstrip("@") or target.startswith(("https://", "http://"))
    try:
        async with open_session(settings) as session:
            now = utcnow()
            if is_account:
                actor = await find_person(session, None, target)
                if args.action == "suspend":
                    purged = await suspensions.suspend_actor(
                        session, actor, reason=args.reason, purge=args.purge, now=now
                    )
                elif not await suspensions.unsuspend_actor(session, actor):
                    raise _Refused(f"{target} is not suspended")
            elif args.action == "suspend":
                target, purged = await suspensions.suspend_domain(
                    session, target, settings.domain, reason=args.reason, purge=args.purge, now=now
                )
            elif not await suspensions.unsuspend_domain(session, target):
                raise _Refused(f"{target} is not suspended")
            await session.commit()
    except (_Refused, PersonNotFound, suspensions.CannotSuspend) as error:
        print(f"copnet: error: {error}", file=sys.stderr)
        return 1
    if args.action == "suspend":
        print(f"suspended {target}" + (f"; {purged} posts purged" if args.purge else ""))
    else:
        print(f"unsuspended {target}")
    return 0
