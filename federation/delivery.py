"""One POST of a signed activity to one inbox, mapped to `Delivered | RetryLater | GiveUp`.

Signing is not done here: the delivery worker signs on an executor so that RSA work runs on
every core, then hands the signed headers to `deliver`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from federation.http1 import Answer, ProtocolError
from federation.inbox_client import ConnectFailed, InboxClient
from federation.netguard import BlockedAddressError
from federation.retry import classify_status, retry_after

__all__ = [
    "AS2_CONTENT_TYPE",
    "DEFAULT_TIMEOUT",
    "Delivered",
    "DeliveryResult",
    "GiveUp",
    "RetryLater",
    "deliver",
    "host_is_down",
]

# Mastodon, Lemmy, GoToSocial and Misskey all accept this one for inbox POSTs.
AS2_CONTENT_TYPE = "application/activity+json"
DEFAULT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class Delivered:
    """The inbox accepted the activity (2xx)."""

    status: int = 202


@dataclass(frozen=True, slots=True)
class RetryLater:
    """A failure that may pass; `delay` is what the server asked for (Retry-After), if anything."""

    reason: str
    delay: timedelta | None = None
    status: int | None = None
    # RFC 9421 §5.1: how the server would like requests signed, if it said so with a refusal.
    accept_signature: str | None = None


@dataclass(frozen=True, slots=True)
class GiveUp:
    """A failure that retrying will not fix; `gone` when the inbox answered 410."""

    reason: str
    gone: bool = False
    status: int | None = None
    accept_signature: str | None = None  # as in RetryLater


DeliveryResult = Delivered | RetryLater | GiveUp


def host_is_down(result: DeliveryResult) -> bool:
    """True when the result counts against the host's circuit breaker (no answer or 5xx)."""
    return isinstance(result, RetryLater) and (result.status is None or result.status >= 500)


async def deliver(
    client: InboxClient,
    inbox_url: str,
    body: bytes,
    digest: str,
    headers: Mapping[str, str],
    *,
    time_limit: float = DEFAULT_TIMEOUT,
    now: datetime | None = None,
) -> DeliveryResult:
    """POST an already-signed activity to an inbox and classify what happened."""
    if not _is_http_url(inbox_url):
        return GiveUp(f"inbox URL is not an absolute http(s) URL: {inbox_url[:200]!r}")
    request_headers = {**headers, "Content-Type": AS2_CONTENT_TYPE, "Digest": digest}
    try:
        answer = await client.post(inbox_url, body, request_headers, time_limit=time_limit)
    except TimeoutError:
        return RetryLater(f"timed out after {time_limit:g} s")
    except BlockedAddressError as exc:
        return GiveUp(exc.reason)
    except ConnectFailed as exc:
        return RetryLater(f"cannot connect: {exc}")
    except ValueError as exc:
        return GiveUp(f"cannot send to this inbox: {exc}")
    except (ProtocolError, OSError) as exc:
        return RetryLater(f"request failed: {type(exc).__name__}: {exc}")
    return _classify(answer, now or datetime.now(UTC))


def _is_http_url(url: str) -> bool:
    return url[:8].lower().startswith(("https://", "http://"))


def _classify(answer: Answer, now: datetime) -> DeliveryResult:
    status = answer.status
    verdict = classify_status(status)
    if verdict == "delivered":
        return Delivered(status)
    reason = _reason(status, answer.body)
    hint = answer.headers.get("accept-signature")
    if verdict == "gone":
        return GiveUp(reason, gone=True, status=status)
    if verdict == "give_up":
        return GiveUp(reason, status=status, accept_signature=hint)
    delay = retry_after(answer.headers.get("retry-after"), now=now)
    return RetryLater(reason, delay=delay, status=status, accept_signature=hint)


def _reason(status: int, excerpt: bytes) -> str:
    text = excerpt[:200].decode("utf-8", "replace").strip()
    text = " ".join(text.split())
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"
