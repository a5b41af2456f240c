"""The demo Network that `make run` seeds: believable CoPs in health and social care."""

from __future__ import annotations

from datetime import timedelta

from models.account_queries import create_account, member_by_name
from models.actors import get_local_actor
from models.base import utcnow
from models.communities import CommunityModerator, get_community
from server.cli.demo_content import DEMO_DOCUMENTS, DEMO_MEMBERS, DEMO_MODERATORS, DEMO_THREADS
from server.media.store import media_store_for
from server.services.documents import Upload, share_document
from server.services.markdown import render_markdown
from server.services.membership import join
from server.services.passwords import hash_password
from server.services.posts import publish_post

DEMO_COMMUNITIES: tuple[tuple[str, str, str], ...] = (
    (
        "nursing_practice",
        "Nursing Practice",
        "Ward nurses, district nurses and students sharing what works on shift: handovers, "
        "safe staffing, wound care and the small things that make a long day kinder.",
    ),
    (
        "social_work",
        "Social Work Together",
        "Social workers in children's and adult services talking through **practice dilemmas**, "
        "supervision, and keeping relationships at the heart of the work.",
    ),
    (
        "patient_voices",
        "Patient Voices",
        "People who use services and their carers, telling it as it is. "
        "Professionals welcome: come to listen first.",
    ),
    (
        "dementia_care",
        "Dementia Care",
        "Carers, nurses and researchers on living well with dementia: activities, "
        "environments, and supporting families.",
    ),
    (
        "care_research",
        "Research into Practice",
        "Academics and practitioners turning research into everyday care. "
        "Share a paper, ask what it means on the ground.",
    ),
)

# Everyone in the demo signs in with this; the demo is for trying copnet, not for production.
DEMO_PASSWORD = "copnet-demo-2026"  # noqa: S105 (a documented demo password)


async def seed_demo_people(session, settings, urls) -> int:
    """Members, their memberships, threads with replies, and documents; once only."""

    if await member_by_name(session, DEMO_MEMBERS[0][0]) is not None:
        return 0
    password_hash = hash_password(DEMO_PASSWORD)
    for index, (name, display_name, bio) in enumerate(DEMO_MEMBERS):
        await create_account(
            session, name, password_hash, display_name=display_name, is_admin=index == 0
        )
        actor = await get_local_actor(session, name)
        actor.summary_source = bio
        actor.summary_html = render_markdown(bio)
    members = {name: await get_local_actor(session, name) for name, _d, _b in DEMO_MEMBERS}
    now = utcnow()
    for cop_name, threads in DEMO_THREADS.items():
        community = await get_community(session, cop_name)
        for member in members.values():
            await join(session, urls, member, community.actor)
        moderator = members[DEMO_MODERATORS[cop_name]]
        session.add(CommunityModerator(community_id=community.actor_id, actor_id=moderator.id))
        for author, days_ago, title, body, replies in threads:
            when = now - timedelta(days=days_ago)
            root = await publish_post(
                session,
                urls,
                author=members[author],
                group=community.actor,
                community=community,
                title=title,
                body_markdown=body,
                parent=None,
                now=when,
            )
            await _seed_replies(session, urls, members, community, root, replies, when)
    await _seed_documents(session, settings, urls, members, now)
    return len(DEMO_MEMBERS)


async def _seed_replies(session, urls, members, community, parent, replies, when) -> None:

    for offset, (author, body, nested) in enumerate(replies, start=1):
        at = when + timedelta(hours=3 * offset)
        post = await publish_post(
            session,
            urls,
            author=members[author],
            group=community.actor,
            community=community,
            title="",
            body_markdown=body,
            parent=parent,
            now=at,
        )
        await _seed_replies(session, urls, members, community, post, nested, at)


async def _seed_documents(session, settings, urls, members, now) -> None:

    store = media_store_for(settings)
    for cop_name, uploader, title, description, body in DEMO_DOCUMENTS:
        community = await get_community(session, cop_name)
        stored = await store.store_bytes(body.encode(), filename=f"{title}.md")
        await share_document(
            session,
            urls,
            community=community,
            author=members[uploader],
            title=title,
            description=description,
            upload=Upload(stored, f"{title}.md", body),
            now=now,
        )
