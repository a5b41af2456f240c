"""Resolve HTTP-signature keyIds to their owner and public key, with caching and rotation."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from yarl import URL

from federation.fetch import FetchBudget, Fetcher, FetchError
from federation.keys import KeyFormatError, load_public_key
from federation.origin import authority
from federation.request_signature import AnySignature, request_signature, verify_any
from federation.signature_header import SignatureError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedKey:
    """A public key and the actor that owns it, as confirmed by the owner's document."""

    key_id: str
    owner: str
    public_key_pem: str


class KeyCache(Protocol):
    """Storage for resolved keys (memory here; the server may back it with the database)."""

    async def get(self, key_id: str) -> ResolvedKey | None:
        """Return the cached key or None."""
        ...

    async def put(self, key: ResolvedKey) -> None:
        """Store or replace a key."""
        ...


class MemoryKeyCache:
    """In-process LRU cache of resolved keys with a time to live."""

    def __init__(
        self,
        max_entries: int = 10_000,
        ttl: float = 24 * 3600.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_entries = max_entries
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, ResolvedKey]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key_id: str) -> ResolvedKey | None:
        """Return the cached key unless it is missing or expired."""
        entry = self._entries.get(key_id)
        if entry is None:
            return None
        stored_at, key = entry
        if self._clock() - stored_at >= self._ttl:
            del self._entries[key_id]
            return None
        self._entries.move_to_end(key_id)
        return key

    def forget(self, key_id: str) -> None:
        """Drop a key its owner no longer lists."""
        self._entries.pop(key_id, None)

    async def put(self, key: ResolvedKey) -> None:
        """Store a key, evicting the least recently used entries past max_entries."""
        self._entries[key.key_id] = (self._clock(), key)
        self._entries.move_to_end(key.key_id)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)


def _key_entries(doc: Mapping[str, Any]) -> list[Any]:
    keys = doc.get("publicKey")
    if keys is None:
        return []
    return list(keys) if isinstance(keys, list) else [keys]


def _entry_id(entry: Any) -> str | None:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
        return entry["id"]
    return None


def _find_entry(doc: Mapping[str, Any], key_id: str) -> Any | None:
    return next((e for e in _key_entries(doc) if _entry_id(e) == key_id), None)


def _pem_of(entry: Mapping[str, Any]) -> str:
    pem = entry.get("publicKeyPem")
    if not isinstance(pem, str):
        raise SignatureError("key has no publicKeyPem")
    try:
        load_public_key(pem)
    except KeyFormatError as exc:
        raise SignatureError("key publicKeyPem is not a valid public key") from exc
    return pem


class KeyResolver:
    """Finds the public key behind a keyId and verifies signed requests with it."""

    def __init__(
        self,
        fetcher: Fetcher,
        cache: KeyCache | None = None,
        *,
        refetch_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_tracked: int = 10_000,
        on_actor_document: Callable[[Mapping[str, Any], str], Awaitable[None]] | None = None,
    ) -> None:
        self._fetcher = fetcher
        self._cache: KeyCache = cache if cache is not None else MemoryKeyCache()
        self._refetch_interval = refetch_interval
        self._clock = clock
        self._max_tracked = max_tracked
        self._last_refetch: OrderedDict[str, float] = OrderedDict()
        # Told about every actor document fetched for a key, so an actor cache can keep it
        # instead of fetching the same document again.
        self._on_actor_document = on_actor_document

    async def resolve(
        self, key_id: str, *, refresh: bool = False, budget: FetchBudget | None = None
    ) -> ResolvedKey:
        """Return the key for key_id from cache or its origin; FetchError or SignatureError."""
        key, _ = await self._resolve(key_id, refresh=refresh, budget=budget)
        return key

    async def _resolve(
        self, key_id: str, *, refresh: bool, budget: FetchBudget | None
    ) -> tuple[ResolvedKey, bool]:
        if not refresh:
            cached = await self._cache.get(key_id)
            if cached is not None:
                return cached, True
        key = await self._fetch_key(key_id, budget)
        await self._cache.put(key)
        return key, False

    async def _fetch_key(self, key_id: str, budget: FetchBudget | None) -> ResolvedKey:
        key_origin = authority(key_id)
        if key_origin is None:
            raise SignatureError("keyId is not an absolute http(s) URL")
        doc_url = str(URL(key_id).with_fragment(None))
        doc = await self._fetcher.fetch_json(doc_url, budget=budget)
        entry = _find_entry(doc, key_id)
        if isinstance(entry, Mapping):
            owner = doc["id"]
            entry_owner = entry.get("owner")
            if entry_owner is not None and entry_owner != owner:
                raise SignatureError("key owner is not the actor that lists it")
            pem = _pem_of(entry)
            await self._share(doc, doc_url)
        elif doc.get("id") == key_id and isinstance(doc.get("owner"), str):
            owner = doc["owner"]
            pem = _pem_of(doc)
            await self._confirm_owner(owner, key_id, pem, key_origin, budget)
        else:
            raise SignatureError("document does not contain the key")
        if authority(owner) != key_origin:
            raise SignatureError("key owner is on another origin than the key")
        return ResolvedKey(key_id=key_id, owner=owner, public_key_pem=pem)

    async def _confirm_owner(
        self,
        owner: str,
        key_id: str,
        pem: str,
        key_origin: str,
        budget: FetchBudget | None,
    ) -> None:
        # Checked before fetching so a key cannot make us fetch from an arbitrary host.
        if authority(owner) != key_origin:
            raise SignatureError("key owner is on another origin than the key")
        owner_doc = await self._fetcher.fetch_json(owner, budget=budget)
        await self._share(owner_doc, owner)
        listed = _find_entry(owner_doc, key_id)
        if listed is None:
            raise SignatureError("key owner does not list the key")
        if isinstance(listed, Mapping) and "publicKeyPem" in listed:
            if listed["publicKeyPem"] != pem:
                raise SignatureError("key owner lists a different key")

    async def _share(self, document: Mapping[str, Any], url: str) -> None:
        if self._on_actor_document is None:
            return
        try:
            await self._on_actor_document(document, url)
        except Exception:  # a cache must never make a valid signature fail
            log.exception("caching the actor document of %s failed", url)

    def _may_refetch(self, key_id: str) -> bool:
        # Bad signatures are cheap to send; without this each one would cost a fetch.
        now = self._clock()
        last = self._last_refetch.get(key_id)
        if last is not None and now - last < self._refetch_interval:
            return False
        self._last_refetch[key_id] = now
        self._last_refetch.move_to_end(key_id)
        while len(self._last_refetch) > self._max_tracked:
            self._last_refetch.popitem(last=False)
        return True

    async def verify(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        now: datetime | None = None,
        required: Sequence[str] | None = None,
        budget: FetchBudget | None = None,
        signature: AnySignature | None = None,
        scheme: str = "https",
    ) -> ResolvedKey:
        """Verify a signed request and return the key that signed it, or raise SignatureError.

        `signature` is the request's signature if the caller has parsed it already (draft-cavage
        or RFC 9421); `scheme` is this server's public scheme, part of RFC 9421's target URI.
        """
        parsed = signature if signature is not None else request_signature(headers)
        key, from_cache = await self._resolve_for_verify(parsed.key_id, False, budget)

        def check(candidate: ResolvedKey) -> None:
            try:
                public_key = load_public_key(candidate.public_key_pem)
            except KeyFormatError as exc:
                raise SignatureError("cached key is not a valid public key") from exc
            verify_any(
                method,
                target,
                headers,
                parsed,
                public_key,
                scheme=scheme,
                now=now,
                body=body,
                required=required,
            )

        try:
            check(key)
        except SignatureError:
            if not from_cache or not self._may_refetch(parsed.key_id):
                raise
            # The remote may have rotated its key since we cached it.
            fresh, _ = await self._resolve_for_verify(parsed.key_id, True, budget)
            if fresh.public_key_pem == key.public_key_pem:
                raise
            check(fresh)
            return fresh
        return key

    async def _resolve_for_verify(
        self, key_id: str, refresh: bool, budget: FetchBudget | None
    ) -> tuple[ResolvedKey, bool]:
        try:
            return await self._resolve(key_id, refresh=refresh, budget=budget)
        except FetchError as exc:
            # The detail (addresses, connect errors) is for our log, not for the sender.
            log.warning("could not fetch key %r: %s", key_id[:300], exc.reason)
            raise SignatureError("could not fetch the signer's key") from exc
