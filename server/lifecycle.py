"""Cleanup contexts: what starts with the application and stops with it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from federation.fetch import Fetcher, FetchPolicy, Signer
from federation.netguard import make_connector
from models.actors import ensure_instance_actor
from models.database import create_engine, session_factory
from models.migrate import require_current
from server import __version__
from server.appkeys import CLIENT, ENGINE, FETCHER, SESSIONS, SETTINGS, URLS


async def database(app: web.Application) -> AsyncIterator[None]:
    """Open the database, refuse to start on an unmigrated schema, close it on exit."""
    settings = app[SETTINGS]
    engine = create_engine(settings.database_url)
    try:
        await require_current(engine)
        app[ENGINE] = engine
        app[SESSIONS] = session_factory(engine)
        yield
    finally:
        await engine.dispose()


async def http_client(app: web.Application) -> AsyncIterator[None]:
    """One client session for every outgoing request, with the SSRF guard built in."""
    settings = app[SETTINGS]
    connector = make_connector(
        allow_private=settings.allow_private_addresses, host_map=settings.host_map
    )
    user_agent = f"copnet/{__version__} (+{app[URLS].root})"
    session = aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": user_agent},
        cookie_jar=aiohttp.DummyCookieJar(),  # never replay a remote server's cookies
    )
    async with app[SESSIONS]() as db:
        instance = await ensure_instance_actor(db)
        await db.commit()
    signer = Signer(
        key_id=app[URLS].key_id(app[URLS].instance_actor()),
        private_key_pem=instance.private_key_pem or "",
    )
    app[CLIENT] = session
    app[FETCHER] = Fetcher(
        session,
        FetchPolicy(allow_private=settings.allow_private_addresses),
        signer=signer,
        user_agent=user_agent,
    )
    try:
        yield
    finally:
        await session.close()
