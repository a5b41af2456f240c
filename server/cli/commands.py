"""What the CLI subcommands do, as coroutines that take the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from models import communities
from models.actors import ensure_instance_actor
from models.base import utcnow
from models.database import create_engine, session_factory
from models.migrate import current_revision, head_revision, require_current, upgrade
from server.cli.demo import DEMO_COMMUNITIES, DEMO_PASSWORD, seed_demo_people
from server.services.basecamp_demo import seed_demo_basecamp
from server.services.markdown import render_markdown
from server.services.network_actor import announce_new_community, ensure_network_actor
from server.settings import Settings
from server.urls import Urls


@asynccontextmanager
async def open_session(settings: Settings, *, migrated: bool = True) -> AsyncIterator[AsyncSession]:
    """A session on the configured database, checked to be migrated."""
    engine = create_engine(settings.database_url)
    try:
        if migrated:
            await require_current(engine)
        async with session_factory(engine)() as session:
            yield session
    finally:
        await engine.dispose()


async def check_database(settings: Settings) -> None:
    """Fail early, with the command to run, if the database is not ready."""
    async with open_session(settings):
        pass


async def migrate(settings: Settings, _args=None) -> int:
    """Apply every pending migration and make sure the instance actor exists."""
    engine = create_engine(settings.database_url)
    try:
        before = await current_revision(engine)
        await upgrade(engine)
        after = head_revision()
        if before == after:
            print(f"database already at revision {after}")
        else:
            print(f"database migrated from {before or 'empty'} to {after}")
        async with session_factory(engine)() as session:
            await ensure_instance_actor(session)
            await ensure_network_actor(session, title=f"{settings.instance_name} Network")
            await session.commit()
    finally:
        await engine.dispose()
    return 0


async def create_community(settings: Settings, args) -> int:
    """Create one CoP from the command line."""
    async with open_session(settings) as session:
        community = await communities.create_community(
            session,
            args.name,
            title=args.title.strip() or args.name,
            summary_source=args.summary,
            summary_html=render_markdown(args.summary),
        )
        await announce_new_community(session, Urls(settings.url), community)
        await session.commit()
    name = community.actor.local_name
    print(f"created @{name}@{settings.domain}: {settings.url}/c/{name}")
    return 0


async def list_communities(settings: Settings, _args=None) -> int:
    """Print every CoP, one per line."""
    async with open_session(settings) as session:
        found = await communities.list_communities(session)
    if not found:
        print("no communities yet; create one with `copnet community create NAME --title T`")
    for community in found:
        actor = community.actor
        print(f"@{actor.local_name}@{settings.domain}\t{actor.display_name}")
    return 0


async def seed_demo(settings: Settings, _args=None) -> int:
    """Seed the demo Network; what exists already is left as it is, so it is safe to repeat."""
    urls = Urls(settings.url)
    async with open_session(settings) as session:
        created = 0
        for name, title, summary in DEMO_COMMUNITIES:
            if await communities.get_community(session, name) is not None:
                continue
            await communities.create_community(
                session,
                name,
                title=title,
                summary_source=summary,
                summary_html=render_markdown(summary),
            )
            created += 1
            print(f"  created @{name}@{settings.domain} ({title})", flush=True)
        await session.commit()
        people = await seed_demo_people(session, settings, urls)
        await session.commit()
        if people:
            print(f"  {people} demo members (sign in with password {DEMO_PASSWORD!r})")
        if await seed_demo_basecamp(session, urls, now=utcnow()) is not None:
            print("  an upcoming Basecamp in Leeds")
        await session.commit()
    print(f"demo Network ready: {created} new communities, {len(DEMO_COMMUNITIES)} in the demo")
    return 0
