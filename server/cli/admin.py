"""`copnet member ...` and `copnet admin ...`: members, sign-up mode, invitations."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from models import account_queries as accounts
from models import invite_queries, site_modes, web_sessions
from server.cli.commands import open_session
from server.cli.member import add_member_commands
from server.services import passwords
from server.settings import Settings

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


def add_admin_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `member create|set-password|set-admin|delete|list`, `admin ...` commands."""
    member = subparsers.add_parser("member", help="manage local members")
    member_actions = member.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = member_actions.add_parser(
        "create",
        help="create a member (their Person actor and account)",
        description="The password comes from --password-stdin (safer: not in the shell "
        "history or the process list) or --password.",
    )
    create.add_argument("name", help="handle: lowercase letters, digits and _ (e.g. sam_okafor)")
    secret = create.add_mutually_exclusive_group(required=True)
    secret.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    secret.add_argument("--password", help="the password (at least 10 characters)")
    create.add_argument("--email", help="email address (optional)")
    create.add_argument("--display-name", default="", help="e.g. 'Sam Okafor, ward nurse'")
    create.add_argument("--admin", action="store_true", help="make the member an admin")
    create.set_defaults(handler=_blocking(create_member))

    reset = member_actions.add_parser(
        "set-password",
        help="give a member a new password (signs them out everywhere)",
        description="For a member who forgot their password; tell them the new one safely.",
    )
    reset.add_argument("name", help="the member's handle")
    secret = reset.add_mutually_exclusive_group(required=True)
    secret.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    secret.add_argument("--password", help="the new password (at least 10 characters)")
    reset.set_defaults(handler=_blocking(set_password))

    role = member_actions.add_parser("set-admin", help="make a member an admin (or not)")
    role.add_argument("name", help="the member's handle")
    role.add_argument("--revoke", action="store_true", help="take the admin role away")
    role.set_defaults(handler=_blocking(set_admin))
    add_member_commands(member_actions)

    admin = subparsers.add_parser("admin", help="Network settings for admins")
    admin_actions = admin.add_subparsers(dest="action", metavar="ACTION", required=True)
    signup = admin_actions.add_parser("signup-mode", help="print or set who may join")
    signup.add_argument(
        "mode",
        nargs="?",
        choices=site_modes.SIGNUP_MODES,
        help="open (anyone may join) or invite (joining needs an invitation code)",
    )
    signup.set_defaults(handler=_blocking(signup_mode))
    creation = admin_actions.add_parser("cop-creation", help="print or set who may start CoPs")
    creation.add_argument(
        "mode",
        nargs="?",
        choices=site_modes.COP_CREATION_MODES,
        help="anyone (members start CoPs at once) or approval (an admin approves each)",
    )
    creation.set_defaults(handler=_blocking(cop_creation))
    invite = admin_actions.add_parser("invite", help="print a new single-use invitation code")
    invite.set_defaults(handler=_blocking(create_invite))


def _blocking(command: Command) -> Callable[[Settings, argparse.Namespace], int]:
    def handler(settings: Settings, args: argparse.Namespace) -> int:
        return asyncio.run(command(settings, args))

    return handler


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return args.password


async def create_member(settings: Settings, args: argparse.Namespace) -> int:
    """Create one member from the command line."""
    password = _password(args)
    try:
        passwords.check_password_rules(password, name=args.name)
        email = accounts.normalize_email(args.email)
    except (passwords.WeakPassword, accounts.InvalidEmail) as exc:
        return _fail(str(exc))
    password_hash = await passwords.hash_password_async(password)
    async with open_session(settings) as session:
        try:
            await accounts.create_account(
                session,
                args.name,
                password_hash,
                email=email,
                display_name=args.display_name,
                is_admin=args.admin,
            )
        except accounts.EmailTaken as exc:
            return _fail(str(exc))
        await session.commit()
    role = "admin" if args.admin else "member"
    print(f"created {role} @{args.name}@{settings.domain}: {settings.url}/u/{args.name}")
    return 0


async def set_password(settings: Settings, args: argparse.Namespace) -> int:
    """Replace a member's password and end all their sessions."""
    password = _password(args)
    try:
        passwords.check_password_rules(password, name=args.name)
    except passwords.WeakPassword as exc:
        return _fail(str(exc))
    password_hash = await passwords.hash_password_async(password)
    async with open_session(settings) as session:
        member = await accounts.member_by_name(session, args.name)
        if member is None:
            return _fail(f"no member named {args.name!r}")
        await accounts.set_password_hash(session, member.account.actor_id, password_hash)
        ended = await web_sessions.delete_sessions_of(session, member.account.actor_id)
        await session.commit()
    print(
        f"new password set for @{member.name}@{settings.domain}; signed out of {ended} session(s)"
    )
    return 0


async def set_admin(settings: Settings, args: argparse.Namespace) -> int:
    """Grant or revoke the admin role."""
    async with open_session(settings) as session:
        if not await accounts.set_admin(session, args.name, not args.revoke):
            return _fail(f"no member named {args.name!r}")
        await session.commit()
    state = "no longer an admin" if args.revoke else "now an admin"
    print(f"@{args.name}@{settings.domain} is {state}")
    return 0


async def signup_mode(settings: Settings, args: argparse.Namespace) -> int:
    """Print the sign-up mode, or set it when one is given."""
    async with open_session(settings) as session:
        if args.mode is None:
            print(await site_modes.get_signup_mode(session))
            return 0
        await site_modes.set_signup_mode(session, args.mode)
        await session.commit()
    print(f"sign-up mode: {args.mode}")
    if args.mode == "invite":
        print("create invitation codes with `copnet admin invite` or on the /admin page")
    return 0


async def cop_creation(settings: Settings, args: argparse.Namespace) -> int:
    """Print who may start CoPs, or set it when a mode is given."""
    async with open_session(settings) as session:
        if args.mode is None:
            print(await site_modes.get_cop_creation(session))
            return 0
        await site_modes.set_cop_creation(session, args.mode)
        await session.commit()
    print(f"CoP creation: {args.mode}")
    return 0


async def create_invite(settings: Settings, _args: argparse.Namespace) -> int:
    """Print one new invitation code (it is stored hashed: this is the only time it shows)."""
    async with open_session(settings) as session:
        code = await invite_queries.create_invite(session)
        await session.commit()
    print(code)
    return 0


def _fail(message: str) -> int:
    print(f"copnet: error: {message}", file=sys.stderr)
    return 1
