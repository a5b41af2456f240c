"""The double knock: which signature to send again after a server refused the first one.

A server that does not know RFC 9421 answers an RFC 9421-signed request with 401 (Mastodon
before 4.5, GoToSocial) or 400; one that prefers it may say so in `Accept-Signature` (RFC 9421
§5.1). Fedify does the same dance (`firstKnock`, then the other standard on 4xx) and remembers
the answer per server; copnet remembers it in the `instances` table, so a server costs at most
one extra request, ever.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from federation.rfc9421 import (
    DERIVED_COMPONENTS,
    GET_COMPONENTS,
    POST_COMPONENTS,
    SIGNING_ALGORITHM,
)
from federation.structured_fields import InnerList, StructuredFieldError, parse_dictionary

__all__ = [
    "CAVAGE",
    "REFUSED_STATUSES",
    "RFC9421",
    "Knock",
    "KnockMemory",
    "SignatureRequest",
    "components_for",
    "parse_accept_signature",
    "second_knock",
]

RFC9421 = "rfc9421"
CAVAGE = "cavage"
# What a server answers to a signature it cannot read; other failures are not the signature's.
REFUSED_STATUSES = frozenset({400, 401})
# Header fields every signed request of copnet's carries, so a hint may ask to cover them.
_HEADERS_WE_SEND = frozenset({"content-digest", "host", "date"})


@dataclass(frozen=True, slots=True)
class Knock:
    """One way of signing a request: the standard, and for RFC 9421 the components covered."""

    standard: str
    components: tuple[str, ...] | None = None


def components_for(method: str, asked: tuple[str, ...] = ()) -> tuple[str, ...]:
    """What copnet covers for a request: its own minimum plus what the server asked for."""
    post = method.upper() == "POST"
    own = POST_COMPONENTS if post else GET_COMPONENTS
    # A GET has no content, so no Content-Digest to cover, whatever a hint asks.
    extra = tuple(n for n in asked if n not in own and (post or n != "content-digest"))
    return own + extra


def second_knock(
    method: str,
    first: Knock,
    status: int | None,
    accept_signature: str | None,
    *,
    may_try_rfc9421: bool,
) -> Knock | None:
    """The knock to try after `first` was answered `status`, or None to keep the answer.

    `may_try_rfc9421` is False once the server has refused RFC 9421: a hint cannot make copnet
    knock with it again, so no server costs more than one extra request.
    """
    if status not in REFUSED_STATUSES:
        return None
    asked = parse_accept_signature(accept_signature)
    if asked is not None and may_try_rfc9421:
        wanted = components_for(method, asked.components)
        if first.standard == CAVAGE or wanted != (first.components or components_for(method)):
            return Knock(RFC9421, wanted)
    if first.standard == RFC9421:
        return Knock(CAVAGE)
    return None


class KnockMemory(Protocol):
    """What a server accepts, as the server layer remembers it (server/peers/signature_knocks)."""

    async def ensure_loaded(self, domain: str) -> None:
        """Read the server's entry if it is not in memory yet."""
        ...

    def first_knock(self, domain: str) -> str:
        """The standard to sign the next request to the server with."""
        ...

    def may_try_rfc9421(self, domain: str) -> bool:
        """False once the server has refused RFC 9421."""
        ...

    def probe(self, domain: str) -> asyncio.Lock | None:
        """A lock to hold while the server's first RFC 9421 knock is unanswered."""
        ...

    async def accepted(self, domain: str, standard: str) -> None:
        """A request signed with `standard` was accepted."""
        ...

    async def refused_rfc9421(self, domain: str, then: str) -> None:
        """The server refused RFC 9421 and accepted `then`."""
        ...

    def may_knock_twice(self, domain: str) -> bool:
        """False once a second knock to the server was refused too (nothing to learn there)."""
        ...

    def knocked_twice_in_vain(self, domain: str) -> None:
        """Both knocks were refused: the refusal is not about the signature standard."""
        ...


@dataclass(frozen=True, slots=True)
class SignatureRequest:
    """What an `Accept-Signature` field asks for (RFC 9421 §5.1)."""

    components: tuple[str, ...]
    algorithm: str | None


def parse_accept_signature(value: str | None) -> SignatureRequest | None:
    """The first request of an `Accept-Signature` field that copnet can meet, if any.

    copnet can sign the derived components and the headers it sends (content-digest, host,
    date) with rsa-v1_5-sha256; a request for anything else is ignored.
    """
    if not value:
        return None
    try:
        members = parse_dictionary(value)
    except StructuredFieldError:
        return None
    for member in members.values():
        if not isinstance(member, InnerList):
            continue
        names = tuple(str(item.value) for item in member.items)
        if any(item.params or not isinstance(item.value, str) for item in member.items):
            continue
        if not all(
            n in DERIVED_COMPONENTS or n in ("content-digest", "host", "date") for n in names
        ):
            continue
        alg = member.params.get("alg")
        if alg is not None and alg != SIGNING_ALGORITHM:
            continue
        return SignatureRequest(names, alg if isinstance(alg, str) else None)
    return None
