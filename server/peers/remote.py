"""Remote actors and instances: cached rows, fetched and refreshed on demand."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from federation.actors import ACTOR_TYPES, InvalidActor, RemoteActorInfo, parse_actor
from federation.fetch import FetchBudget, Fetcher, FetchError, GoneError
from federation.nodeinfo import AudienceKind, audience_kind, fetch_software
from federation.origin import authority, same_origin
from models.actors import (
    INSTANCE_ACTOR_NAME,
    Actor,
    actor_by_ap_id,
    actor_by_key_id,
    get_local_actor,
    mark_gone,
    remote_key,
    store_remote_actor,
)
from models.base import utcnow
from models.instances import Instance
from models.upsert import upsert
from server.peers.policy import FederationPolicy
from server.services.markdown import sanitize_html
from server.urls import Urls

log = logging.getLogger(__name__)

SOFTWARE_NAME = "copnet"
_DISPLAY_NAME_LENGTH = 255  # actors.display_name
# Local actor paths (server/urls.py) -> the AS2 types that may live there.
_LOCAL_PATHS = {"c": ("Group",), "u": ("Person", "Service", "Organization")}


class LocalActorNotFound(LookupError):
    """A URL on this server that names no local actor."""


class RemoteActors:
    """Finds actors by id: local ones from the database, remote ones from cache or their server."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        fetcher: Fetcher,
        urls: Urls,
        *,
        local_domain: str,
        refresh_after: timedelta = timedelta(days=1),
        clock: Callable[[], datetime] = utcnow,
        policy: FederationPolicy | None = None,
        software_ttl: timedelta = timedelta(days=7),
        unknown_software_ttl: timedelta = timedelta(hours=1),
    ) -> None:
        self._sessions = sessions
        self._fetcher = fetcher
        self._urls = urls
        self._local = authority(f"http://{local_domain}/")
        self._refresh_after = refresh_after
        self._clock = clock
        self._policy = policy
        self._software_ttl = software_ttl
        self._unknown_software_ttl = unknown_software_ttl
        # Told the key ids an actor stopped listing or changed (e.g. the key cache's `forget`).
        self.on_key_change: Callable[[str], None] | None = None

    async def get(
        self, ap_id: str, *, budget: FetchBudget | None = None, refresh: bool = False
    ) -> Actor:
        """The actor with this id: local, cached, or fetched when missing, stale or `refresh`."""
        # Raises FetchError, GoneError, InvalidActor, DomainBlocked or LocalActorNotFound. The
        # returned ap_id may differ from the one asked for (same origin only, e.g. /@name ->
        # /users/name): code authenticating an activity must compare them itself.
        if self.is_local(ap_id):
            return await self._local_actor(ap_id)
        await self._check_policy(ap_id)
        async with self._sessions() as session:
            cached = await actor_by_ap_id(session, ap_id)
        if cached is not None and not refresh:
            if cached.gone:
                raise GoneError(f"{ap_id} was deleted (HTTP 410)")
            if self._fresh(cached):
                return cached
        try:
            return await self._store(await self._fetch_actor(ap_id, budget))
        except GoneError:
            await self._mark_gone(ap_id)
            raise
        except FetchError as exc:
            if cached is None or cached.gone or refresh:
                raise
            # A stale copy beats failing: the remote may only be down for a while.
            log.info(
                "refreshing %s failed (%s); using the copy from %s", ap_id, exc, cached.fetched_at
            )
            return cached

    async def remember(self, document: Mapping[str, Any], fetched_from: str) -> None:
        """Cache an actor document someone else fetched (the signature check), if it is one."""
        if not _is_actor(document) or self.is_local(fetched_from):
            return
        try:
            await self._store(parse_actor(dict(document), fetched_from=fetched_from))
        except InvalidActor as exc:
            log.info("not caching %s: %s", fetched_from, exc)

    async def get_by_key_id(
        self, key_id: str, *, budget: FetchBudget | None = None, refresh: bool = False
    ) -> Actor:
        """The actor whose main key has this id (actor#main-key or a separate key document)."""
        document_url = str(URL(key_id).with_fragment(None))
        if self.is_local(document_url):
            actor = await self._local_actor(document_url)
            listed = self._urls.key_id(self._urls.actor(actor))
        else:
            await self._check_policy(key_id)
            async with self._sessions() as session:
                cached = await actor_by_key_id(session, key_id)
            if cached is not None and cached.ap_id:
                actor = await self.get(cached.ap_id, budget=budget, refresh=refresh)
            else:
                actor = await self._fetch_key_owner(key_id, document_url, budget)
            listed = actor.public_key_id
        if listed != key_id:
            raise InvalidActor(f"{self._urls.actor(actor)} does not list the key {key_id}")
        return actor

    async def software_for_url(self, url: str, *, budget: FetchBudget | None = None) -> str | None:
        """NodeInfo software name of the server at url's origin, cached in `instances`."""
        if self.is_local(url):
            return SOFTWARE_NAME
        await self._check_policy(url)
        parsed = URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            raise ValueError(f"{url!r} is not an http(s) URL")
        domain = authority(url) or ""
        async with self._sessions() as session:
            row = await session.get(Instance, domain)
        now = self._clock()
        if row is not None and row.nodeinfo_fetched_at is not None:
            ttl = self._software_ttl if row.software else self._unknown_software_ttl
            if now - row.nodeinfo_fetched_at < ttl:
                return row.software
        found = await fetch_software(self._fetcher, str(parsed.origin()), budget=budget)
        values: dict[str, Any] = {"domain": domain, "nodeinfo_fetched_at": now}
        if found is not None:
            values.update(software=found[0], software_version=found[1])
        async with self._sessions() as session:
            await upsert(session, Instance, values, "domain")
            await session.commit()
        if found is not None:
            return found[0]
        # Keep what we knew: a server whose NodeInfo fails for a while rarely changed software.
        return row.software if row is not None else None

    async def audience_kind_for_url(
        self, url: str, *, budget: FetchBudget | None = None
    ) -> AudienceKind:
        """Which Announce form the server at url understands (see federation.nodeinfo)."""
        return audience_kind(await self.software_for_url(url, budget=budget))

    def is_local(self, url: str) -> bool:
        """True for URLs on this server's own host and port."""
        return authority(url) == self._local

    async def _local_actor(self, url: str) -> Actor:
        segments = [s for s in URL(url).path.split("/") if s]
        if segments == ["actor"]:
            name, types = INSTANCE_ACTOR_NAME, ("Application",)
        elif len(segments) == 2 and segments[0] in _LOCAL_PATHS:
            name, types = segments[1], _LOCAL_PATHS[segments[0]]
        else:
            raise LocalActorNotFound(f"{url} is not a local actor URL")
        async with self._sessions() as session:
            actor = await get_local_actor(session, name)
        if actor is None or actor.type not in types:
            raise LocalActorNotFound(f"no local actor at {url}")
        return actor

    async def _check_policy(self, url: str) -> None:
        if self._policy is not None:
            await self._policy.check_urls([url])

    def _fresh(self, actor: Actor) -> bool:
        fetched = actor.fetched_at
        return fetched is not None and self._clock() - fetched < self._refresh_after

    async def _fetch_actor(self, url: str, budget: FetchBudget | None) -> RemoteActorInfo:
        document = await self._fetcher.fetch_json(url, budget=budget)
        return parse_actor(document, fetched_from=url)

    async def _fetch_key_owner(
        self, key_id: str, document_url: str, budget: FetchBudget | None
    ) -> Actor:
        try:
            document = await self._fetcher.fetch_json(document_url, budget=budget)
        except GoneError:
            await self._mark_gone(document_url)
            raise
        if not _is_actor(document) and document.get("owner") is not None:
            # A separate key document (GoToSocial's /main-key): trust only what its owner lists.
            owner = _reference(document.get("owner"))
            if not isinstance(owner, str) or not same_origin(owner, key_id):
                raise InvalidActor("the key's owner is not on the key's origin")
            return await self.get(owner, budget=budget, refresh=True)
        return await self._store(parse_actor(document, fetched_from=document_url))

    async def _store(self, info: RemoteActorInfo) -> Actor:
        now = self._clock()
        values = {
            "ap_id": info.ap_id,
            "type": info.type,
            "username": info.username,
            "domain": info.domain,
            "display_name": info.display_name[:_DISPLAY_NAME_LENGTH],
            "summary_source": "",
            "summary_html": sanitize_html(info.summary_html_raw),
            "inbox_url": info.inbox,
            "shared_inbox_url": info.shared_inbox,
            "outbox_url": info.outbox,
            "followers_url": info.followers,
            "url": info.url,
            "icon_url": info.icon_url,
            "public_key_id": info.key_id,
            "public_key_pem": info.public_key_pem,
            "fetched_at": now,
            "updated": now,
            "gone": False,
        }
        # One short transaction; concurrent first fetches of one actor meet in ON CONFLICT.
        # Read apart from the write: on SQLite a read that turns into a write can deadlock.
        async with self._sessions() as session:
            before = await remote_key(session, info.ap_id)
        async with self._sessions() as session:
            actor = await store_remote_actor(session, values, published=now)
            await session.commit()
        if before is not None and before != (info.key_id, info.public_key_pem):
            self._key_changed(before[0], info.key_id)
        return actor

    def _key_changed(self, *key_ids: str | None) -> None:
        if self.on_key_change is None:
            return
        for key_id in dict.fromkeys(key_ids):
            if key_id:
                self.on_key_change(key_id)

    async def _mark_gone(self, ap_id: str) -> None:
        async with self._sessions() as session:
            await mark_gone(session, ap_id, now=self._clock())
            await session.commit()


def _reference(value: Any) -> Any:
    return value.get("id") if isinstance(value, Mapping) else value


def _is_actor(document: Mapping[str, Any]) -> bool:
    types = document.get("type")
    return any(t in ACTOR_TYPES for t in (types if isinstance(types, list) else [types]))
