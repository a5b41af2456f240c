"""Signed GET of remote ActivityPub documents with SSRF, size, time, redirect and budget limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import aiohttp
from yarl import URL

from federation.jsonload import JsonRejected, loads_strict
from federation.keys import load_private_key
from federation.knock import CAVAGE, RFC9421, Knock, KnockMemory, components_for, second_knock
from federation.netguard import BlockedAddressError, GuardedConnector, check_url
from federation.origin import authority
from federation.rfc9421_sign import sign_request_rfc9421
from federation.signatures import sign_request

AS2_ACCEPT = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'

_AS2_TYPES = frozenset({"application/activity+json", "application/ld+json"})
# Not AS2, but some servers (and misconfigured proxies) send it for AS2 documents.
# Some servers answer AS2 requests as plain JSON; NodeInfo indexes come as JRD (Fedify).
_LENIENT_TYPES = frozenset({"application/json", "application/jrd+json"})
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CHUNK = 64 * 1024


class FetchError(Exception):
    """A remote document could not be fetched or was not acceptable."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status

    def __str__(self) -> str:
        return self.reason


class FetchBudgetExceeded(FetchError):
    """The per-activity fetch budget is spent."""


class GoneError(FetchError):
    """The remote answered 410 Gone: the document was deleted."""

    def __init__(self, reason: str = "remote answered HTTP 410 Gone") -> None:
        super().__init__(reason, status=410)


@dataclass
class FetchPolicy:
    """Limits applied to every outgoing fetch."""

    allow_private: bool = False
    max_bytes: int = 1_048_576
    timeout: float = 10.0
    max_redirects: int = 3
    max_depth: int = 64


@dataclass
class Signer:
    """The actor whose key signs outgoing GETs."""

    key_id: str
    private_key_pem: str


class FetchBudget:
    """Counts fetches made on behalf of one incoming activity."""

    def __init__(self, limit: int = 10) -> None:
        self.limit = limit
        self.used = 0

    @property
    def remaining(self) -> int:
        """Fetches still allowed."""
        return max(self.limit - self.used, 0)

    def spend(self) -> None:
        """Take one fetch from the budget or raise FetchBudgetExceeded."""
        if self.used >= self.limit:
            raise FetchBudgetExceeded(f"fetch budget of {self.limit} exhausted")
        self.used += 1


class Fetcher:
    """Fetches AS2 JSON documents from other servers, safely."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        policy: FetchPolicy,
        *,
        signer: Signer | None = None,
        user_agent: str = "copnet",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        connector = session.connector
        guarded = isinstance(connector, GuardedConnector) and not connector.allow_private
        if not policy.allow_private and not guarded:
            # check_url only sees IP literals; hostnames are vetted by the guarded resolver.
            raise ValueError(
                "Fetcher needs a session built with make_connector(allow_private=False)"
            )
        self._session = session
        self._policy = policy
        self._signer = signer
        self._user_agent = user_agent
        self._clock = clock
        # Which signature standard each server reads; without it, signed GETs use draft-cavage.
        self.knocks: KnockMemory | None = None

    @property
    def policy(self) -> FetchPolicy:
        """The limits this fetcher applies."""
        return self._policy

    async def fetch_json(
        self,
        url: str,
        *,
        signer: Signer | None = None,
        budget: FetchBudget | None = None,
        accept: str = AS2_ACCEPT,
    ) -> dict:
        """Fetch an AS2 document whose id is the URL it was served from."""
        signer = signer or self._signer
        timeout = self._policy.timeout
        try:
            async with asyncio.timeout(timeout):
                doc, final = await self._get(url, signer, budget, accept)
                doc_id = self._id_of(doc, final)
                if doc_id == str(final):
                    return doc
                # Mastodon's rule: trust a document only when fetched from its own id.
                doc, final = await self._get(doc_id, signer, budget, accept)
                if self._id_of(doc, final) != doc_id:
                    raise FetchError("document id does not match its URL")
                return doc
        except TimeoutError as exc:
            raise FetchError(f"timed out after {timeout:g} s") from exc

    async def fetch_plain_json(
        self, url: str, *, budget: FetchBudget | None = None, accept: str = "application/json"
    ) -> tuple[dict, str]:
        """Fetch unsigned JSON without an AS2 id (NodeInfo); return it and its final URL."""
        timeout = self._policy.timeout
        try:
            async with asyncio.timeout(timeout):
                document, final = await self._get(url, None, budget, accept)
        except TimeoutError as exc:
            raise FetchError(f"timed out after {timeout:g} s") from exc
        return document, str(final)

    def _id_of(self, doc: dict, final: URL) -> str:
        doc_id = doc.get("id")
        if not isinstance(doc_id, str) or not doc_id:
            raise FetchError("document has no id")
        try:
            id_url = URL(doc_id)
        except (TypeError, ValueError) as exc:
            raise FetchError("document id is not a URL") from exc
        if authority(str(id_url)) != authority(str(final)):
            raise FetchError(f"document id is on {id_url.host}, fetched from {final.host}")
        return doc_id

    def _check(self, url: str | URL) -> URL:
        try:
            checked = check_url(url, allow_private=self._policy.allow_private)
        except BlockedAddressError as exc:
            raise FetchError(exc.reason) from exc
        return checked.with_fragment(None)

    def _headers(
        self, url: URL, signer: Signer | None, accept: str, knock: Knock | None = None
    ) -> dict[str, str]:
        headers = {"Accept": accept, "User-Agent": self._user_agent}
        if signer is None:
            return headers
        now = self._clock() if self._clock is not None else None
        key = load_private_key(signer.private_key_pem)
        if knock is not None and knock.standard == RFC9421:
            return sign_request_rfc9421(
                "GET",
                str(url),
                headers,
                key_id=signer.key_id,
                private_key=key,
                now=now,
                components=knock.components or components_for("GET"),
            )
        return sign_request(
            "GET", str(url), headers, None, key_id=signer.key_id, private_key=key, now=now
        )

    async def _open(self, url: URL, signer: Signer | None, accept: str) -> aiohttp.ClientResponse:
        """GET the URL, signed with the server's first knock and, if refused, its second."""
        domain = authority(str(url))
        if signer is None or self.knocks is None or domain is None:
            return await self._send(url, self._headers(url, signer, accept))
        await self.knocks.ensure_loaded(domain)
        probe = self.knocks.probe(domain)
        if probe is None:
            return await self._knock(url, signer, accept, domain, self.knocks)
        async with probe:
            return await self._knock(url, signer, accept, domain, self.knocks)

    async def _knock(
        self, url: URL, signer: Signer, accept: str, domain: str, knocks: KnockMemory
    ) -> aiohttp.ClientResponse:
        knock = Knock(knocks.first_knock(domain))
        response = await self._send(url, self._headers(url, signer, accept, knock))
        if 200 <= response.status < 300:
            await knocks.accepted(domain, knock.standard)
            return response
        second = second_knock(
            "GET",
            knock,
            response.status,
            response.headers.get("Accept-Signature"),
            may_try_rfc9421=knocks.may_try_rfc9421(domain),
        )
        if second is None or not knocks.may_knock_twice(domain):
            return response
        try:
            headers = self._headers(url, signer, accept, second)
        except ValueError:
            return response
        response.release()
        retry = await self._send(url, headers)
        if not 200 <= retry.status < 300:
            knocks.knocked_twice_in_vain(domain)
        elif second.standard == CAVAGE:
            await knocks.refused_rfc9421(domain, CAVAGE)
        else:
            await knocks.accepted(domain, second.standard)
        return retry

    async def _send(self, url: URL, headers: dict[str, str]) -> aiohttp.ClientResponse:
        return await self._session.get(url, headers=headers, allow_redirects=False)

    async def _get(
        self, url: str | URL, signer: Signer | None, budget: FetchBudget | None, accept: str
    ) -> tuple[dict, URL]:
        if budget is not None:
            budget.spend()
        current = self._check(url)
        for _ in range(self._policy.max_redirects + 1):
            try:
                async with await self._open(current, signer, accept) as resp:
                    if resp.status in _REDIRECTS:
                        location = resp.headers.get("Location")
                        if not location:
                            raise FetchError("redirect without Location", status=resp.status)
                        try:
                            target = current.join(URL(location))
                        except (TypeError, ValueError) as exc:
                            raise FetchError("invalid redirect Location") from exc
                        current = self._check(target)
                        continue
                    return self._parse(await self._read(resp)), current
            except aiohttp.ClientConnectorError as exc:
                if isinstance(exc.os_error, BlockedAddressError):
                    raise FetchError(exc.os_error.reason) from exc
                raise FetchError(f"cannot connect to {current.host}: {exc.os_error}") from exc
            except aiohttp.ClientError as exc:
                raise FetchError(f"request failed: {type(exc).__name__}") from exc
        raise FetchError(f"too many redirects (max {self._policy.max_redirects})")

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        if resp.status == 410:
            raise GoneError()
        if not 200 <= resp.status < 300:
            raise FetchError(f"remote answered HTTP {resp.status}", status=resp.status)
        content_type = resp.content_type
        if content_type not in _AS2_TYPES and content_type not in _LENIENT_TYPES:
            raise FetchError(f"unexpected content type {content_type}")
        limit = self._policy.max_bytes
        too_large = f"response larger than {limit} bytes"
        if resp.content_length is not None and resp.content_length > limit:
            raise FetchError(too_large)
        body = bytearray()
        async for chunk in resp.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise FetchError(too_large)
        return bytes(body)

    def _parse(self, body: bytes) -> dict:
        try:
            doc = loads_strict(body, max_depth=self._policy.max_depth)
        except JsonRejected as exc:
            raise FetchError(f"response is not acceptable JSON: {exc.reason}") from exc
        if not isinstance(doc, dict):
            raise FetchError("JSON document is not an object")
        return doc
