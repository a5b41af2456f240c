"""People a post written here addresses: `@name@host` in its text and the author it answers.

Mastodon and GoToSocial notify an account when a post's `tag` holds a `Mention` of it and the
post reaches its inbox; Lemmy notifies the parent's author of a reply. So each resolved mention
is kept with the post (`posts.mentions`): its actor id goes to `cc` and `tag`, its inbox gets the
activity, and its handle is linked in the text the way Mastodon writes mentions (an `h-card`).
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import asdict, dataclass

from federation.actors import InvalidActor
from federation.fetch import FetchError
from federation.webfinger import HandleError, resolve_handle
from models.actors import Actor
from server.peers.policy import DomainBlocked
from server.peers.remote import LocalActorNotFound
from server.urls import Urls

log = logging.getLogger(__name__)

MAX_MENTIONS = 20
# `@name@host` not inside a word, an e-mail address or a URL path.
MENTION_IN_TEXT = re.compile(
    r"(?<![\w@/.])@(?P<name>[A-Za-z0-9_][A-Za-z0-9_.\-]*)@(?P<host>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*(?::\d+)?)"
)
_TAG = re.compile(r"(<[^>]*>)")


@dataclass(frozen=True)
class Mention:
    """An actor a post addresses: its id, `@name@host`, and where to deliver (remote only)."""

    href: str
    name: str
    inbox: str | None = None
    domain: str | None = None


def handle_of(urls: Urls, actor: Actor) -> str:
    """`@name@host` of any actor row."""
    if actor.ap_id:
        return f"@{actor.username}@{actor.domain}"
    return f"@{actor.local_name}@{urls.base.host_port_subcomponent}"


def mention_of(urls: Urls, actor: Actor) -> Mention:
    """The mention of an actor we know (the parent's author of a reply)."""
    inbox = None if actor.is_local else (actor.shared_inbox_url or actor.inbox_url)
    return Mention(urls.actor(actor), handle_of(urls, actor), inbox, actor.domain)


def handles_in(text: str) -> list[str]:
    """The distinct `@name@host` written in a text, in order (at most MAX_MENTIONS)."""
    found = dict.fromkeys(
        f"@{m.group('name')}@{m.group('host').lower()}" for m in MENTION_IN_TEXT.finditer(text)
    )
    return list(found)[:MAX_MENTIONS]


async def resolve_mentions(remote, fetcher, urls: Urls, text: str, *, schemes) -> list[Mention]:
    """Look each `@name@host` of the text up (WebFinger, then the actor); unknown ones stay text."""
    mentions = []
    local_host = urls.base.host_port_subcomponent.lower()
    for handle in handles_in(text):
        name, host = handle[1:].split("@", 1)
        try:
            if host == local_host:
                actor_url = urls.person(name)
            else:
                actor_url = await resolve_handle(fetcher, handle, schemes=schemes)
            actor = await remote.get(actor_url)
            if not actor.is_local:
                await remote.software_for_url(actor.ap_id)  # the shape its server reads
        except (
            HandleError,
            FetchError,
            InvalidActor,
            DomainBlocked,
            LocalActorNotFound,
            ValueError,
        ) as error:
            log.info("mention %s not resolved: %s", handle, error)
            continue
        mention = mention_of(urls, actor)
        mentions.append(Mention(mention.href, handle, mention.inbox, mention.domain))
    return mentions


def merge(*groups: list[Mention]) -> list[Mention]:
    """Mentions without repeats (by actor id), first wins."""
    seen: dict[str, Mention] = {}
    for group in groups:
        for mention in group:
            seen.setdefault(mention.href, mention)
    return list(seen.values())


def dumps(mentions: list[Mention]) -> str:
    """The JSON kept in `posts.mentions`."""
    return json.dumps([asdict(m) for m in mentions])


def loads(value: str | None) -> list[Mention]:
    """The mentions kept with a post."""
    return [Mention(**item) for item in json.loads(value or "[]")]


def mention_html(mention: Mention) -> str:
    """A mention as Mastodon writes it: an h-card link showing `@name`."""
    name = mention.name.lstrip("@").split("@", 1)[0]
    return (
        f'<span class="h-card"><a href="{html.escape(mention.href)}" '
        f'class="u-url mention">@<span>{html.escape(name)}</span></a></span>'
    )


def link_mentions(content_html: str, mentions: list[Mention]) -> str:
    """Turn the resolved `@name@host` of rendered HTML into mention links (never inside links)."""
    by_handle = {m.name.lower(): m for m in mentions}
    if not by_handle:
        return content_html

    def replace(match: re.Match) -> str:
        handle = f"@{match.group('name')}@{match.group('host')}".lower()
        mention = by_handle.get(handle)
        return mention_html(mention) if mention else match.group(0)

    parts, inside_link = [], 0
    for part in _TAG.split(content_html):
        if part.startswith("<"):
            lowered = part.lower()
            if lowered.startswith("<a ") or lowered == "<a>":
                inside_link += 1
            elif lowered.startswith("</a"):
                inside_link = max(0, inside_link - 1)
            parts.append(part)
        else:
            parts.append(part if inside_link else MENTION_IN_TEXT.sub(replace, part))
    return "".join(parts)


def unlinked(content_html: str, mentions: list[Mention]) -> list[Mention]:
    """Mentions whose link the text does not show (the parent's author of a plain reply)."""
    return [m for m in mentions if f'href="{html.escape(m.href)}"' not in content_html]
