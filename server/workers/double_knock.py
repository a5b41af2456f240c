"""One POST with a server's first knock and, when it refused the signature, the second.

`federation.knock.second_knock` says what to try after a refusal; `SignatureKnocks` says what
to try first and remembers what worked. While a server's first RFC 9421 knock is unanswered,
its POSTs wait for that answer (`probe`), so a server that refuses RFC 9421 costs one extra
request however many lanes deliver to it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from federation.delivery import Delivered, DeliveryResult, GiveUp
from federation.keys import KeyFormatError
from federation.knock import CAVAGE, Knock, second_knock
from server.peers.signature_knocks import SignatureKnocks

__all__ = ["knock_twice"]

log = logging.getLogger(__name__)

Headers = dict[str, str]


async def knock_twice(
    knocks: SignatureKnocks,
    host: str,
    knock: Knock,
    signed: Headers,
    *,
    post: Callable[[Headers], Awaitable[DeliveryResult]],
    sign: Callable[[Knock], Awaitable[Headers]],
) -> DeliveryResult:
    """POST `signed` (made with `knock`) to `host`, then the second knock if it is called for."""
    probe = knocks.probe(host)
    if probe is None:
        return await _knock(knocks, host, knock, signed, post, sign)
    async with probe:
        return await _knock(knocks, host, knock, signed, post, sign)


async def _knock(
    knocks: SignatureKnocks,
    host: str,
    knock: Knock,
    signed: Headers,
    post: Callable[[Headers], Awaitable[DeliveryResult]],
    sign: Callable[[Knock], Awaitable[Headers]],
) -> DeliveryResult:
    try:
        current = Knock(knocks.first_knock(host))
        if current.standard != knock.standard:  # learnt while this request waited
            knock, signed = current, await sign(current)
        result = await post(signed)
        if isinstance(result, Delivered):
            await knocks.accepted(host, knock.standard)
            return result
        second = second_knock(
            "POST",
            knock,
            result.status,
            result.accept_signature,
            may_try_rfc9421=knocks.may_try_rfc9421(host),
        )
        if second is None or not knocks.may_knock_twice(host):
            return result
        retry = await post(await sign(second))
    except (KeyFormatError, ValueError) as exc:
        return GiveUp(f"cannot sign: {exc}")
    if not isinstance(retry, Delivered):
        knocks.knocked_twice_in_vain(host)
    elif second.standard == CAVAGE:
        log.info("%s refused RFC 9421 (%s); draft-cavage from now on", host, result.reason)
        await knocks.refused_rfc9421(host, CAVAGE)
    else:
        await knocks.accepted(host, second.standard)
    return retry
