"""The inboxes: check, store, answer 202; the intake worker does the rest.

POST -> size cap -> JSON -> envelope -> federation policy -> signature + Digest + Date ->
origin checks -> dedupe by activity id -> durable row -> 202 (docs/architecture.md, "An
activity coming in").
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from aiohttp import web

from federation.fetch import FetchBudget
from federation.jsonload import JsonRejected, loads_strict
from federation.objects import InvalidActivity, ids_of, object_id, parse_envelope
from federation.origin import authority
from federation.request_signature import is_rfc9421, request_signature
from federation.signature_header import SignatureError
from models.received import received_row
from server.activities import ACTIVITY_TYPES
from server.appkeys import (
    INTAKE,
    INTAKE_WRITER,
    KEY_RESOLVER,
    LOCAL_NAMES,
    POLICY,
    SETTINGS,
    SIGNATURE_KNOCKS,
)
from server.http.errors import http_error
from server.peers.policy import DomainBlocked
from server.views.inbox_ownership import refuse_foreign_changes
from server.workers.inbox_writer import Unstorable

log = logging.getLogger(__name__)

MAX_INBOX_BYTES = 512 * 1024
MAX_JSON_DEPTH = 32
KEY_FETCH_BUDGET = 3
JSON = "application/json"


async def shared_inbox(request: web.Request) -> web.Response:
    """The shared inbox of every local actor."""
    return await _receive(request, "shared")


async def community_inbox(request: web.Request) -> web.Response:
    """A CoP's own inbox."""
    name = request.match_info["name"]
    if not await request.app[LOCAL_NAMES].exists(name, "Group"):
        raise http_error(404, f"no community named {name!r}")
    return await _receive(request, name)


async def person_inbox(request: web.Request) -> web.Response:
    """A member's own inbox."""
    name = request.match_info["name"]
    if not await request.app[LOCAL_NAMES].exists(name, "Person"):
        raise http_error(404, f"no member named {name!r}")
    return await _receive(request, name)


async def _receive(request: web.Request, inbox: str) -> web.Response:
    body = await _read_capped(request)
    activity = _parse_json(body)
    try:
        envelope = parse_envelope(activity)
    except InvalidActivity as error:
        raise http_error(400, str(error)) from None
    try:
        signature = request_signature(request.headers)
    except SignatureError as error:
        raise http_error(401, error.reason) from None
    _check_addressed_to_us(request)
    if authority(signature.key_id) is None:
        raise http_error(401, "keyId is not an absolute http(s) URL")
    named = named_urls(activity)
    for field, url in named.items():
        if authority(url) is None:
            raise http_error(400, f"{field} is not an absolute http(s) URL")
    policy = request.app[POLICY]
    try:
        # Before any fetch: a blocked signer costs us nothing.
        await policy.check_urls([signature.key_id, envelope.actor])
        await policy.check_urls(named.values())
    except DomainBlocked as error:
        raise http_error(403, str(error)) from None
    try:
        key = await request.app[KEY_RESOLVER].verify(
            request.method,
            request.path_qs,
            request.headers,
            body,
            budget=FetchBudget(KEY_FETCH_BUDGET),
            signature=signature,
            scheme=request.app[SETTINGS].base.scheme,
        )
    except SignatureError as error:
        raise http_error(401, error.reason) from None
    if is_rfc9421(signature) and (signer_server := authority(key.owner)) is not None:
        # A server that signs with RFC 9421 reads it too: our replies knock with it first.
        await request.app[SIGNATURE_KNOCKS].heard_rfc9421(signer_server)
    forwarded = key.owner != envelope.actor
    id_host, signer_host = authority(envelope.id), authority(key.owner)
    if not forwarded and id_host != authority(envelope.actor):
        raise http_error(400, "activity id is not on the actor's host")
    if forwarded and id_host not in (signer_host, authority(envelope.actor)):
        raise http_error(400, "activity id is on neither the signer's nor the actor's host")
    await refuse_foreign_changes(request, activity)
    if envelope.type not in ACTIVITY_TYPES:
        # The type is the sender's text: only its start is echoed (and kept among the bodies).
        return _accepted("ignored", f"copnet does not handle {envelope.type[:100]} activities")
    row = received_row(
        ap_id=dedupe_key(envelope.id, id_host, signer_host),
        type=envelope.type,
        actor_ap_id=envelope.actor,
        signer_key_id=key.key_id,
        inbox=inbox,
        forwarded=forwarded,
        body=body.decode("utf-8"),
    )
    try:
        is_new = await request.app[INTAKE_WRITER].store(row)
    except Unstorable as error:
        raise http_error(400, f"activity cannot be stored: {error.reason}") from None
    except Exception:
        raise http_error(503, "could not store the activity; please retry") from None
    if not is_new:
        return _accepted("duplicate", "this activity was already received")
    request.app[INTAKE].wake()
    return _accepted("accepted", "queued for processing")


def dedupe_key(activity_id: str, id_host: str | None, signer_host: str | None) -> str:
    """The key an activity is deduplicated by.

    Only the id's own server may occupy the id: an activity forwarded by another server is kept
    apart per forwarder, so a forged copy cannot make the author's real one a duplicate.
    """
    if id_host == signer_host:
        return activity_id
    return f"{activity_id} forwarded by {signer_host}"


def named_urls(activity: dict[str, Any]) -> dict[str, str]:
    """Every URL an activity draws content from (actor, object, author, parent, inner actor),
    by the field that names it."""
    found = {"actor": object_id(activity.get("actor")), "object": object_id(activity.get("object"))}
    inner = activity.get("object")
    if isinstance(inner, dict):
        found["object.actor"] = object_id(inner.get("actor"))
        found["object.inReplyTo"] = object_id(inner.get("inReplyTo"))
        for index, author in enumerate(ids_of(inner.get("attributedTo"))):
            found[f"object.attributedTo[{index}]"] = author
        found["object.object"] = object_id(inner.get("object"))
    return {field: url for field, url in found.items() if url}


def _check_addressed_to_us(request: web.Request) -> None:
    # The signature covers Host, so a request signed for another server's inbox fails here
    # instead of being replayed to ours. Behind a proxy, Host is the public host it forwards.
    settings = request.app[SETTINGS]
    given = request.headers.get("Host", "")
    if authority(f"{settings.base.scheme}://{given}/") != settings.domain.lower():
        raise http_error(401, f"request is addressed to {given[:200]}, not {settings.domain}")


async def _read_capped(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > MAX_INBOX_BYTES:
        raise http_error(413, f"activity larger than {MAX_INBOX_BYTES} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > MAX_INBOX_BYTES:
                raise http_error(413, f"activity larger than {MAX_INBOX_BYTES} bytes")
            chunks.append(chunk)
    except ConnectionResetError:
        # The sender hung up mid-body (aiohttp's "Connection lost"): nothing to answer, nothing
        # wrong on our side. The 400 is for the record; no one is left to read it.
        log.info("inbox POST from %s cut short by the client", request.remote)
        raise http_error(400, "the request body was cut short") from None
    return b"".join(chunks)


def _parse_json(body: bytes) -> Any:
    try:
        return loads_strict(body, max_depth=MAX_JSON_DEPTH)
    except JsonRejected as error:
        raise http_error(400, error.reason) from None


def _accepted(status: str, reason: str) -> web.Response:
    return web.Response(
        body=_answer_body(status, reason), status=202, content_type=JSON, charset="utf-8"
    )


# A few fixed answers (and one per activity type ignored), each serialised once.
@functools.lru_cache(maxsize=64)
def _answer_body(status: str, reason: str) -> bytes:
    return json.dumps({"status": status, "reason": reason}).encode()
