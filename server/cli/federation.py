"""`copnet federation ...`: the admin's allow/block list and federation mode."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from models import policy_queries
from models.policy_queries import MODES, InvalidDomain, normalize_domain
from server.cli.commands import open_session
from server.settings import Settings

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]

DOMAIN_HELP = "a bare domain such as partner.example (also covers its subdomains)"


def add_federation_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `federation allow|block|unblock|list|mode` on the top-level subparsers."""
    federation = subparsers.add_parser(
        "federation",
        help="choose which other servers this Network federates with",
        description="Domains are matched on the hostname, ignoring case and port; an entry for "
        "example.org also covers sub.example.org. A block always beats an allow, and running "
        "servers apply changes within a few seconds.",
    )
    actions = federation.add_subparsers(dest="action", metavar="ACTION", required=True)

    allow = actions.add_parser("allow", help="allow a domain (needed in allowlist mode)")
    allow.add_argument("domain", help=DOMAIN_HELP)
    allow.add_argument("--reason", default="", help="a note for other admins")
    allow.set_defaults(handler=_blocking(allow_domain))

    block = actions.add_parser("block", help="refuse everything from a domain")
    block.add_argument("domain", help=DOMAIN_HELP)
    block.add_argument("--reason", default="", help="a note for other admins")
    block.set_defaults(handler=_blocking(block_domain))

    unblock = actions.add_parser("unblock", help="remove a domain's allow or block entry")
    unblock.add_argument("domain", help=DOMAIN_HELP)
    unblock.set_defaults(handler=_blocking(unblock_domain))

    listing = actions.add_parser("list", help="print the mode and every entry, tab-separated")
    listing.set_defaults(handler=_blocking(list_policy))

    mode = actions.add_parser("mode", help="print or set the federation mode")
    mode.add_argument(
        "mode",
        nargs="?",
        choices=MODES,
        help="open (default: everyone but blocked domains), blocklist (the same, by name) or "
        "allowlist (only allowed domains)",
    )
    mode.set_defaults(handler=_blocking(federation_mode))


def _blocking(command: Command) -> Callable[[Settings, argparse.Namespace], int]:
    # server/cli/main.py calls handlers synchronously; importing it here would be a circle.
    def handler(settings: Settings, args: argparse.Namespace) -> int:
        return asyncio.run(command(settings, args))

    return handler


async def allow_domain(settings: Settings, args: argparse.Namespace) -> int:
    """Add or replace an allow entry."""
    return await _set(settings, args.domain, "allow", args.reason)


async def block_domain(settings: Settings, args: argparse.Namespace) -> int:
    """Add or replace a block entry."""
    return await _set(settings, args.domain, "block", args.reason)


async def unblock_domain(settings: Settings, args: argparse.Namespace) -> int:
    """Remove whatever entry a domain has."""
    try:
        domain = normalize_domain(args.domain)
    except InvalidDomain as exc:
        return _fail(str(exc))
    async with open_session(settings) as session:
        removed = await policy_queries.remove_domain(session, domain)
        await session.commit()
    print(f"removed the entry for {domain}" if removed else f"{domain} had no entry")
    return 0


async def list_policy(settings: Settings, _args: argparse.Namespace | None = None) -> int:
    """Print `mode<TAB>MODE`, then `DOMAIN<TAB>ACTION<TAB>REASON` per entry."""
    async with open_session(settings) as session:
        mode = await policy_queries.get_mode(session)
        entries = await policy_queries.list_domains(session)
    print(f"mode\t{mode}")
    for entry in entries:
        print(f"{entry.domain}\t{entry.action}\t{_one_line(entry.reason)}")
    return 0


async def federation_mode(settings: Settings, args: argparse.Namespace) -> int:
    """Print the mode, or set it when one is given."""
    async with open_session(settings) as session:
        if args.mode is None:
            print(await policy_queries.get_mode(session))
            return 0
        await policy_queries.set_mode(session, args.mode)
        allowed = [e for e in await policy_queries.list_domains(session) if e.action == "allow"]
        await session.commit()
    print(f"federation mode: {args.mode}")
    if args.mode == "allowlist" and not allowed:
        print(
            "warning: no domain is allowed yet, so this Network federates with nobody; "
            "add partners with `copnet federation allow DOMAIN`",
            file=sys.stderr,
        )
    return 0


async def _set(settings: Settings, raw_domain: str, action: str, reason: str) -> int:
    try:
        domain = normalize_domain(raw_domain)
    except InvalidDomain as exc:
        return _fail(str(exc))
    if action == "block" and domain == normalize_domain(settings.domain):
        return _fail(f"{domain} is this Network's own domain and is always allowed")
    async with open_session(settings) as session:
        await policy_queries.set_domain(session, domain, action, reason)
        await session.commit()
    verb = "allowed" if action == "allow" else "blocked"
    print(
        f"{verb} {domain} and its subdomains" + (f" ({reason.strip()})" if reason.strip() else "")
    )
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fail(message: str) -> int:
    print(f"copnet: error: {message}", file=sys.stderr)
    return 1
