"""The Network actor: one followable `Group` (e.g. @network@host) for the whole Network.

It IS a CoP (a `communities` row) recorded as the Network's own in the `network.actor_id` site
setting, so the existing /c/{name} machinery serves its Group document, WebFinger, inbox,
outbox, followers and Follow/Accept, with no new actor type. Only moderators may start threads
in it. Its outbox carries Basecamps (Create{Event} and the RSVP poll), reminders, and a note for
each new CoP, so a Mastodon user can follow one account to hear about all of them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.vocab import format_datetime
from models.actors import NameTaken
from models.base import utcnow
from models.communities import Community, create_community
from models.deliveries import enqueue
from models.follows import follower_inboxes
from models.policy import SiteSetting
from models.posts import Post, add_post
from server.as2.activities import new_activity_id
from server.as2.posts import OBJECT_CONTEXT, post_object
from server.services.markdown import render_markdown
from server.urls import Urls

NAME_SETTING = "network.actor_name"  # chosen by an admin before first use
ID_SETTING = "network.actor_id"  # written once the actor exists
DEFAULT_NAME = "network"
DEFAULT_TITLE = "The Network"
SUMMARY = (
    "News from the whole Network: **Basecamps** (gatherings hosted by its Communities of "
    "Practice) and every new community. Follow this account to hear about them; vote in a "
    "Basecamp's poll to say whether you are coming."
)


def handle(urls: Urls, community: Community) -> str:
    """`@name@host` of a local CoP, as WebFinger answers it (no default port)."""
    return f"@{community.actor.local_name}@{urls.base.host_port_subcomponent}"


async def network_actor(session: AsyncSession) -> Community | None:
    """The Network actor's CoP row, if it was created."""
    setting = await session.get(SiteSetting, ID_SETTING)
    if setting is None or not setting.value.isdigit():
        return None
    return await session.get(Community, int(setting.value))


async def is_network_actor(session: AsyncSession, community_id: int) -> bool:
    """True when this CoP is the Network actor (lists of CoPs may want to leave it out)."""
    setting = await session.get(SiteSetting, ID_SETTING)
    return setting is not None and setting.value == str(community_id)


async def ensure_network_actor(session: AsyncSession, *, title: str = DEFAULT_TITLE) -> Community:
    """The Network actor, created on first use under the admin's chosen name; no commit.

    Raises NameTaken when a CoP or member already has that name (an admin then sets
    `network.actor_name` to another one).
    """
    existing = await network_actor(session)
    if existing is not None:
        return existing
    chosen = await session.get(SiteSetting, NAME_SETTING)
    name = chosen.value.strip() if chosen is not None and chosen.value.strip() else DEFAULT_NAME
    try:
        async with session.begin_nested():
            community = await create_community(
                session,
                name,
                title=title,
                summary_source=SUMMARY,
                summary_html=render_markdown(SUMMARY),
            )
            community.posting_restricted_to_mods = True
            session.add(SiteSetting(key=ID_SETTING, value=str(community.actor_id)))
            await session.flush()
    except NameTaken:
        # Another process may have created it a moment ago; otherwise the name is someone's.
        existing = await network_actor(session)
        if existing is not None:
            return existing
        raise NameTaken(
            f"the Network actor's name {name!r} is taken: set the site setting "
            f"{NAME_SETTING!r} to another name"
        ) from None
    return community


async def publish_note(
    session: AsyncSession,
    urls: Urls,
    network: Community,
    *,
    title: str,
    content_html: str,
    mentions: Sequence[tuple[str, str]] = (),
    now: datetime,
) -> tuple[Post, dict]:
    """Post a public Note as the Network actor and queue its Create to the actor's followers.

    Returns the archived post and the Create (so hosting CoPs can announce it); no commit.
    """
    post = Post(
        ap_id=None,
        community_id=network.actor_id,
        author_id=network.actor_id,
        type="Note",
        title=title[:512],
        content_html=content_html,
        published=now,
        last_activity_at=now,
    )
    await add_post(session, post, None)
    note = post_object(urls, post, network.actor, network.actor, None)
    note["tag"].extend({"type": "Mention", "href": href, "name": name} for href, name in mentions)
    note["cc"].extend(href for href, _name in mentions if href not in note["cc"])
    create = {
        "@context": OBJECT_CONTEXT,
        "id": new_activity_id(urls),
        "type": "Create",
        "actor": urls.actor(network.actor),
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
        "published": format_datetime(now),
    }
    inboxes = [inbox for inbox, _domain in await follower_inboxes(session, network.actor_id)]
    await enqueue(
        session,
        actor_id=network.actor_id,
        ap_id=create["id"],
        type_="Create",
        document=create,
        inboxes=inboxes,
        object_ap_id=note["id"],
        in_outbox=True,
        now=now,
    )
    return post, create


async def announce_new_community(
    session: AsyncSession, urls: Urls, community: Community, *, now: datetime | None = None
) -> Post | None:
    """Tell the Network actor's followers that a CoP was founded; no commit.

    Call it when a CoP becomes active (at creation, or when an admin approves it). Nothing is
    posted for the Network actor itself or for CoPs that are not discoverable.
    """
    network = await ensure_network_actor(session)
    if community.actor_id == network.actor_id or not community.discoverable:
        return None
    actor = community.actor
    link = urls.actor(actor)
    title = actor.display_name or actor.local_name or ""
    mention = (
        f'<span class="h-card"><a href="{html.escape(link)}" class="u-url mention">'
        f"@<span>{html.escape(actor.local_name or '')}</span></a></span>"
    )
    content = (
        f"<p>A new Community of Practice has started: "
        f'<strong><a href="{html.escape(link)}">{html.escape(title)}</a></strong>.</p>'
        f"{actor.summary_html}"
        f"<p>Follow {mention} to join the conversation.</p>"
    )
    post, _create = await publish_note(
        session,
        urls,
        network,
        title=f"New community: {title}",
        content_html=content,
        mentions=[(link, handle(urls, community))],
        now=now or utcnow(),
    )
    return post
