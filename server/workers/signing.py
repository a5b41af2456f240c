"""Signing outgoing POSTs on a thread pool, in chunks.

RSA signing in `cryptography` releases the GIL, so threads use every core. Rows are signed
SIGN_CHUNK at a time per executor job, not one per job: each job's completion wakes the event
loop through its self-pipe, which cost as much as the rest of a delivery.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from datetime import datetime

from federation.content_digest import content_digest_of
from federation.keys import KeyFormatError, load_private_key
from federation.knock import CAVAGE, Knock, components_for
from federation.rfc9421_sign import sign_request_rfc9421
from federation.signatures import sign_request
from models.deliveries import ActivityToSend, DueDelivery

__all__ = [
    "SIGN_CHUNK",
    "Presigned",
    "presign",
    "sign_deliveries",
    "sign_delivery",
    "signing_threads",
]

SIGN_CHUNK = 16  # POSTs signed per executor job

# The headers of one POST, or why it could not be signed.
Signed = dict[str, str] | Exception


def signing_threads() -> int:
    """Threads for RSA signing: one per core plus one to cover the GIL-held Python part."""
    return (os.cpu_count() or 1) + 1


def sign_delivery(
    inbox_url: str,
    digest: str,
    key_id: str,
    private_key_pem: str,
    now: datetime,
    knock: Knock | None = None,
) -> dict[str, str]:
    """Signed headers for one inbox POST (runs on the executor): Host, Date, Digest and a
    draft-cavage Signature, or Content-Digest, Signature-Input and Signature for RFC 9421."""
    # The body itself is not needed (its Digest was computed once at enqueue time), which also
    # keeps what a process pool would have to pickle small.
    if knock is not None and knock.standard != CAVAGE:
        return sign_request_rfc9421(
            "POST",
            inbox_url,
            {},
            key_id=key_id,
            private_key=load_private_key(private_key_pem),
            now=now,
            digest=content_digest_of(digest),
            components=knock.components or components_for("POST"),
        )
    return sign_request(
        "POST",
        inbox_url,
        {},
        b"",
        key_id=key_id,
        private_key=load_private_key(private_key_pem),
        now=now,
        digest=digest,
    )


def sign_deliveries(
    jobs: list[tuple[str, str, str, str, Knock | None]], now: datetime
) -> list[Signed]:
    """Sign several POSTs in one executor call: (inbox, digest, keyId, key PEM, knock) each."""
    signed: list[Signed] = []
    for inbox_url, digest, key_id, pem, knock in jobs:
        try:
            signed.append(sign_delivery(inbox_url, digest, key_id, pem, now, knock))
        except (KeyFormatError, ValueError) as exc:
            signed.append(exc)
    return signed


class Presigned:
    """The signatures of one batch's rows, being made on the executor; awaited per row."""

    def __init__(self) -> None:
        self._chunks: dict[int, tuple[asyncio.Future[list[Signed]], int]] = {}

    def add(self, row_id: int, chunk: asyncio.Future[list[Signed]], index: int) -> None:
        self._chunks[row_id] = (chunk, index)

    async def take(self, row_id: int) -> Signed:
        """The headers for this row (once), or the error that kept it from being signed."""
        chunk, index = self._chunks.pop(row_id)
        return (await chunk)[index]


def presign(
    executor: Executor,
    by_host: Iterable[list[DueDelivery]],
    key_id: Callable[[ActivityToSend], str],
    now: datetime,
    knock: Callable[[str], Knock | None] = lambda host: None,
) -> Presigned:
    """Start signing every row whose sender has a key, round-robin across hosts, in the order
    the host lanes will want them; `knock` says how to sign for each host."""
    loop = asyncio.get_running_loop()
    lanes = list(by_host)
    order: list[DueDelivery] = []
    for depth in range(max((len(rows) for rows in lanes), default=0)):
        order.extend(rows[depth] for rows in lanes if depth < len(rows))
    order = [row for row in order if row.activity.sender.private_key_pem]
    presigned = Presigned()
    for start in range(0, len(order), SIGN_CHUNK):
        chunk = order[start : start + SIGN_CHUNK]
        jobs = [
            (
                row.inbox_url,
                row.activity.digest,
                key_id(row.activity),
                row.activity.sender.private_key_pem or "",
                knock(row.host),
            )
            for row in chunk
        ]
        future = loop.run_in_executor(executor, sign_deliveries, jobs, now)
        for index, row in enumerate(chunk):
            presigned.add(row.id, future, index)
    return presigned
