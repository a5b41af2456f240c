"""Which HTTP signature standard copnet knocks with first, per server, and what it learnt.

The rule (docs/architecture.md, "Signatures"): a server known to accept RFC 9421 (it signed to
us with RFC 9421, or accepted our RFC 9421 knock) gets RFC 9421 first; a server that refused it
gets draft-cavage, for good; an unknown server gets `first_knock` (a setting, draft-cavage by
default, as every fediverse server reads it). Answers are kept in `instances`
(`models.instances`), so every worker process and restart shares them. While a server's RFC 9421
knock has not been answered yet, its knocks go one at a time, so a server that refuses RFC 9421
costs one extra request, not one per lane.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from federation.knock import CAVAGE, RFC9421
from models.base import utcnow
from models.instances import remember_signature_standard, signature_standards

__all__ = ["SignatureKnocks"]

log = logging.getLogger(__name__)

_UNKNOWN = object()


class SignatureKnocks:
    """Per-server memory of the signature standard each one accepts."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        first_knock: str = CAVAGE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if first_knock not in (RFC9421, CAVAGE):
            raise ValueError(f"first_knock must be {RFC9421!r} or {CAVAGE!r}")
        self._sessions = sessions
        self._default = first_knock
        self._clock = clock
        self._known: dict[str, str | None] = {}
        self._answered: set[str] = set()  # servers that answered an RFC 9421 knock
        self._probes: dict[str, asyncio.Lock] = {}
        # Servers that refused both knocks (a block, an auth rule): they get no second knock
        # again in this process, so a refusal that is not about signatures costs one request.
        self._in_vain: set[str] = set()

    async def load(self, domains: Iterable[str]) -> None:
        """Read what is stored for these servers (fresh: another process may have learnt)."""
        wanted = {d for d in domains if d}
        if not wanted:
            return
        async with self._sessions() as session:
            found = await signature_standards(session, wanted)
        for domain in wanted:
            self._known[domain] = found.get(domain)

    def known(self, domain: str) -> str | None:
        """What is known of the server (RFC9421, CAVAGE or None), as last loaded or learnt."""
        return self._known.get(domain)

    def first_knock(self, domain: str) -> str:
        """The standard to sign the next request to this server with."""
        known = self._known.get(domain)
        if domain in self._in_vain:
            return CAVAGE  # what every server reads, while this one refuses whatever it is
        if known is None:
            return self._default
        return known

    def may_try_rfc9421(self, domain: str) -> bool:
        """False once the server refused RFC 9421: no hint makes copnet knock with it again."""
        return self._known.get(domain) != CAVAGE

    def may_knock_twice(self, domain: str) -> bool:
        """False once both knocks to the server were refused in this process."""
        return domain not in self._in_vain

    def knocked_twice_in_vain(self, domain: str) -> None:
        """Both knocks were refused: the refusal was not about the signature standard."""
        self._in_vain.add(domain)
        self._answered.add(domain)

    def probe(self, domain: str) -> asyncio.Lock | None:
        """A lock to hold while an unanswered RFC 9421 knock goes to this server, else None."""
        if self.first_knock(domain) != RFC9421 or domain in self._answered:
            return None
        return self._probes.setdefault(domain, asyncio.Lock())

    async def ensure_loaded(self, domain: str) -> None:
        """Load the server's entry unless it is in memory already (signed GETs)."""
        if self._known.get(domain, _UNKNOWN) is _UNKNOWN:
            await self.load([domain])

    async def accepted(self, domain: str, standard: str) -> None:
        """A request signed with `standard` was accepted. Only RFC 9421 is news: every server
        reads draft-cavage, so a cavage success says nothing about RFC 9421."""
        if standard != RFC9421:
            return
        self._answered.add(domain)
        if self._known.get(domain) != RFC9421:
            await self._remember(domain, RFC9421, only_if_unknown=False)

    async def refused_rfc9421(self, domain: str, then: str) -> None:
        """The server refused RFC 9421 and accepted `then` (draft-cavage): remember for good."""
        self._answered.add(domain)
        await self._remember(domain, then, only_if_unknown=False)

    async def heard_rfc9421(self, domain: str) -> None:
        """The server signed a request to us with RFC 9421, so it reads RFC 9421 too."""
        await self.ensure_loaded(domain)
        if self._known.get(domain) is None:
            await self._remember(domain, RFC9421, only_if_unknown=True)

    async def _remember(self, domain: str, standard: str, *, only_if_unknown: bool) -> None:
        try:
            async with self._sessions() as session:
                await remember_signature_standard(
                    session, domain, standard, now=self._clock(), only_if_unknown=only_if_unknown
                )
                await session.commit()
        except Exception:  # memory is an optimisation: a failed write costs a knock, no more
            log.exception("could not remember that %s accepts %s", domain, standard)
            return
        if only_if_unknown:
            await self.load([domain])
        else:
            self._known[domain] = standard
