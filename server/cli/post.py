"""`copnet post delete` (an admin removes any post) and `copnet community set`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from models.base import utcnow
from models.communities import LANGUAGE_TAG, get_community
from models.post_revisions import PostDeleted
from models.posts import Post
from server.cli.commands import open_session
from server.services.post_editing import delete_post
from server.settings import Settings
from server.urls import Urls

Command = Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]]


def add_post_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `post delete`."""
    post = subparsers.add_parser("post", help="act on posts as an admin")
    actions = post.add_subparsers(dest="action", metavar="ACTION", required=True)
    delete = actions.add_parser(
        "delete",
        help="delete any post (kept as a tombstone; other servers are told)",
        description="The post's words go; the thread keeps a 'deleted' placeholder so replies "
        "stay in place. Asks for confirmation unless --yes.",
    )
    delete.add_argument("id", help="the post's number (as in /p/ID or #post-ID)")
    delete.add_argument("--reason", required=True, help="why (sent with the Delete)")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(handler=_blocking(delete_any_post))


def add_community_set_command(community_actions: argparse._SubParsersAction) -> None:
    """Register `community set NAME --announce-replies yes|no --language TAG`."""
    settings = community_actions.add_parser("set", help="change a CoP's settings")
    settings.add_argument("name", help="the CoP's handle")
    settings.add_argument(
        "--announce-replies",
        choices=("yes", "no"),
        help="also boost replies to followers on microblog servers (Mastodon...)",
    )
    settings.add_argument("--language", help="language of its posts, e.g. en, fr, pt-BR")
    settings.set_defaults(handler=_blocking(set_community))


def _blocking(command: Command) -> Callable[[Settings, argparse.Namespace], int]:
    def handler(settings: Settings, args: argparse.Namespace) -> int:
        return asyncio.run(command(settings, args))

    return handler


def _fail(message: str) -> int:
    print(f"copnet: error: {message}", file=sys.stderr)
    return 1


def _confirmed(post: Post) -> bool:
    what = f"thread {post.title!r}" if post.thread_id is None else f"reply {post.id}"
    print(f"Delete {what}? This cannot be undone. Type yes: ", end="", flush=True)
    return sys.stdin.readline().strip().lower() == "yes"


async def delete_any_post(settings: Settings, args: argparse.Namespace) -> int:
    """Tombstone a post and federate its deletion."""
    if not args.id.isdigit() or len(args.id) > 18:
        return _fail(f"{args.id!r} is not a post number")
    reason = args.reason.strip()
    if not reason:
        return _fail("--reason must say why")
    async with open_session(settings) as session:
        post = await session.get(Post, int(args.id))
        if post is None:
            return _fail(f"no post {args.id}")
        if post.is_deleted:
            return _fail(f"post {args.id} is already deleted")
        if not args.yes and not _confirmed(post):
            print("nothing deleted")
            return 1
        try:
            await delete_post(
                session, Urls(settings.url), post=post, now=utcnow(), by=None, reason=reason
            )
        except PostDeleted as exc:
            return _fail(str(exc))
        await session.commit()
    print(f"deleted post {args.id} ({reason})")
    return 0


async def set_community(settings: Settings, args: argparse.Namespace) -> int:
    """Change a CoP's settings and print them."""
    if args.language is not None and not LANGUAGE_TAG.fullmatch(args.language):
        return _fail(f"{args.language!r} is not a language tag like en, fr or pt-BR")
    async with open_session(settings) as session:
        community = await get_community(session, args.name)
        if community is None:
            return _fail(f"no community named {args.name!r}")
        if args.announce_replies is not None:
            community.announce_replies_to_microblogs = args.announce_replies == "yes"
        if args.language is not None:
            community.language = args.language
        await session.commit()
        announce = "yes" if community.announce_replies_to_microblogs else "no"
        print(f"{args.name}: announce-replies {announce}, language {community.language}")
    return 0
