"""Cleanup contexts: what starts with the application and stops with it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from federation.fetch import Fetcher, FetchPolicy, Signer
from federation.inbox_client import InboxClient
from federation.keyresolver import KeyResolver
from federation.netguard import make_connector
from models.actors import ensure_instance_actor
from models.base import utcnow
from models.database import create_engine, session_factory, write_session_factory
from models.migrate import require_current
from server import __version__
from server.activities.base import Context
from server.appkeys import (
    CLIENT,
    DELIVERY,
    ENGINE,
    FETCHER,
    INBOX_CLIENT,
    INTAKE,
    INTAKE_WRITER,
    KEY_RESOLVER,
    LOCAL_NAMES,
    MEDIA,
    POLICY,
    REMOTE,
    SCHEDULER,
    SESSIONS,
    SETTINGS,
    SIGNATURE_KNOCKS,
    URLS,
    WRITE_SESSIONS,
)
from server.mail import recurring
from server.mail.wiring import GIVE_UP, PRIVATE, job_handlers, job_senders
from server.media.store import media_store_for
from server.peers.keycache import DatabaseKeyCache
from server.peers.policy import FederationPolicy
from server.peers.remote import RemoteActors
from server.peers.signature_knocks import SignatureKnocks
from server.services.document_text import DOCUMENT_TEXT, extractor, store_text
from server.services.localnames import LocalNames
from server.workers.delivery import DeliveryWorker
from server.workers.inbox_writer import IntakeWriter
from server.workers.intake import IntakeWorker
from server.workers.retention import RETENTION, ensure_scheduled, purger, reschedule
from server.workers.scheduler import SchedulerWorker


async def database(app: web.Application) -> AsyncIterator[None]:
    """Open the database, refuse to start on an unmigrated schema, close it on exit."""
    settings = app[SETTINGS]
    engine = create_engine(settings.database_url)
    try:
        await require_current(engine)
        app[ENGINE] = engine
        app[SESSIONS] = session_factory(engine)
        app[WRITE_SESSIONS] = write_session_factory(engine)
        app[LOCAL_NAMES] = LocalNames(app[SESSIONS])
        app[INTAKE_WRITER] = IntakeWriter(engine)
        app[INTAKE_WRITER].start()
        try:
            yield
        finally:
            await app[INTAKE_WRITER].stop()
    finally:
        await engine.dispose()


def user_agent(app: web.Application) -> str:
    """How copnet introduces itself to other servers."""
    return f"copnet/{__version__} (+{app[URLS].root})"


async def http_client(app: web.Application) -> AsyncIterator[None]:
    """One client session for every outgoing request, with the SSRF guard built in."""
    settings = app[SETTINGS]
    connector = make_connector(
        allow_private=settings.allow_private_addresses, host_map=settings.host_map
    )
    session = aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": user_agent(app)},
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
    app[INBOX_CLIENT] = InboxClient(
        allow_private=settings.allow_private_addresses,
        host_map=settings.host_map,
        user_agent=user_agent(app),
    )
    app[SIGNATURE_KNOCKS] = SignatureKnocks(
        app[WRITE_SESSIONS], first_knock=settings.signature_first_knock
    )
    app[FETCHER] = Fetcher(
        session,
        FetchPolicy(allow_private=settings.allow_private_addresses),
        signer=signer,
        user_agent=user_agent(app),
    )
    app[FETCHER].knocks = app[SIGNATURE_KNOCKS]
    app[POLICY] = FederationPolicy(app[SESSIONS], local_domain=settings.domain)
    app[REMOTE] = RemoteActors(
        app[SESSIONS], app[FETCHER], app[URLS], local_domain=settings.domain, policy=app[POLICY]
    )
    # The signer's actor document, fetched to check a signature, is the one the intake needs.
    key_cache = DatabaseKeyCache(app[SESSIONS])
    app[KEY_RESOLVER] = KeyResolver(app[FETCHER], key_cache, on_actor_document=app[REMOTE].remember)
    app[REMOTE].on_key_change = key_cache.forget
    try:
        yield
    finally:
        await session.close()
        await app[INBOX_CLIENT].close()


def make_context_factory(app: web.Application):
    """Builds a fresh handler Context (with its own fetch budget) per activity."""

    def make(forwarded: bool) -> Context:
        return Context(
            settings=app[SETTINGS],
            urls=app[URLS],
            sessions=app[WRITE_SESSIONS],
            fetcher=app[FETCHER],
            remote=app[REMOTE],
            policy=app[POLICY],
            clock=utcnow,
            forwarded=forwarded,
        )

    return make


async def workers(app: web.Application) -> AsyncIterator[None]:
    """The intake and delivery workers; their loops run here unless settings turn them off."""
    app[DELIVERY] = DeliveryWorker(
        app[ENGINE],
        app[WRITE_SESSIONS],
        app[INBOX_CLIENT],
        app[URLS],
        knocks=app[SIGNATURE_KNOCKS],
    )
    settings = app[SETTINGS]
    app[SCHEDULER] = SchedulerWorker(
        app[ENGINE],
        app[WRITE_SESSIONS],
        app[URLS],
        handlers={**job_handlers(settings), DOCUMENT_TEXT: store_text, RETENTION: reschedule},
        preparers={
            **job_senders(settings),
            DOCUMENT_TEXT: extractor(lambda: app[MEDIA]),
            RETENTION: purger(app[ENGINE], settings.retention_days),
        },
        give_up_after=GIVE_UP,
        private=PRIVATE,
        on_committed=app[DELIVERY].wake,
    )

    def intake_committed() -> None:
        # An activity may queue deliveries and notification jobs alike.
        app[DELIVERY].wake()
        app[SCHEDULER].wake()

    app[INTAKE] = IntakeWorker(
        app[ENGINE], app[WRITE_SESSIONS], make_context_factory(app), on_committed=intake_committed
    )
    if not settings.run_workers:
        try:
            yield
        finally:
            app[DELIVERY].close()
        return
    await ensure_scheduled(app[WRITE_SESSIONS], utcnow())
    async with app[WRITE_SESSIONS]() as session:
        await recurring.ensure(session, utcnow())
        await session.commit()
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(app[INTAKE].run(stop), name="copnet-intake"),
        asyncio.create_task(app[DELIVERY].run(stop), name="copnet-delivery"),
        asyncio.create_task(app[SCHEDULER].run(stop), name="copnet-scheduler"),
    ]
    try:
        yield
    finally:
        stop.set()
        # Leased rows survive anything, but a clean stop lets the current batch finish.
        _done, pending = await asyncio.wait(tasks, timeout=10)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        app[DELIVERY].close()


async def media(app: web.Application) -> None:
    """on_startup: the media store the settings describe (unless a test set its own), swept of
    uploads a dead process left half-written."""
    if MEDIA not in app:
        app[MEDIA] = media_store_for(app[SETTINGS])
    await asyncio.to_thread(app[MEDIA].sweep_incoming)
