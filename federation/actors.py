"""Parse a remote actor document into the fields copnet keeps, refusing unsafe ones."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from yarl import URL

from federation.keys import KeyFormatError, load_public_key
from federation.origin import authority, same_origin

# Mastodon's ActivityPub::FetchRemoteActorService::SUPPORTED_TYPES.
ACTOR_TYPES = ("Person", "Group", "Service", "Application", "Organization")
# What the actors table stores; longer values would fail on PostgreSQL.
MAX_URL_LENGTH = 2048
MAX_USERNAME_LENGTH = 255


class InvalidActor(ValueError):
    """A document that is not an actor copnet can federate with; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class RemoteActorInfo:
    """The parts of a remote actor copnet stores; `summary_html_raw` is not yet sanitised."""

    ap_id: str
    type: str
    username: str
    domain: str
    display_name: str
    summary_html_raw: str
    inbox: str
    shared_inbox: str | None
    outbox: str | None
    followers: str | None
    url: str | None
    icon_url: str | None
    key_id: str
    public_key_pem: str


def parse_actor(document: Mapping[str, Any], *, fetched_from: str) -> RemoteActorInfo:
    """Validate an actor fetched from `fetched_from`; raise InvalidActor with the reason."""
    if not isinstance(document, Mapping):
        raise InvalidActor("the document is not a JSON object")
    type_ = _actor_type(document.get("type"))
    ap_id = _http_url(document.get("id"))
    if ap_id is None:
        raise InvalidActor("id is missing or not an http(s) URL")
    origin = authority(str(ap_id))
    if _http_url(fetched_from) is None or authority(fetched_from) != origin:
        raise InvalidActor(f"id {ap_id} is not on the origin it was fetched from ({fetched_from})")
    username = document.get("preferredUsername")
    if not isinstance(username, str) or not username.strip():
        # Mastodon refuses actors without one: it is the name in @name@domain.
        raise InvalidActor("preferredUsername is missing")
    if len(username.strip()) > MAX_USERNAME_LENGTH:
        raise InvalidActor(f"preferredUsername is longer than {MAX_USERNAME_LENGTH} characters")
    inbox_value = _id_of(document.get("inbox"))
    inbox = _http_url(inbox_value)
    if inbox is None:
        raise InvalidActor("inbox is missing or not an http(s) URL")
    if authority(str(inbox)) != origin:
        # Otherwise one server could make us deliver (signed) to any endpoint of another.
        raise InvalidActor("inbox is on another origin than the actor")
    key_id, pem = _main_key(document, ap_id)
    return RemoteActorInfo(
        ap_id=str(document["id"]),
        type=type_,
        username=username.strip(),
        domain=origin or "",
        display_name=_text(document.get("name")),
        summary_html_raw=_text(document.get("summary")),
        inbox=inbox_value,
        shared_inbox=_same_origin(_shared_inbox(document), origin),
        outbox=_same_origin(_id_of(document.get("outbox")), origin),
        followers=_same_origin(_id_of(document.get("followers")), origin),
        url=_profile_url(document.get("url"), ap_id),
        icon_url=_icon_url(document.get("icon")),
        key_id=key_id,
        public_key_pem=pem,
    )


def _actor_type(value: Any) -> str:
    candidates = value if isinstance(value, list) else [value]
    for candidate in candidates:
        if candidate in ACTOR_TYPES:
            return candidate
    raise InvalidActor(f"type {value!r} is not an actor type ({', '.join(ACTOR_TYPES)})")


def _http_url(value: Any) -> URL | None:
    if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
        return None
    try:
        url = URL(value)
    except (TypeError, ValueError):
        return None
    if url.scheme not in ("http", "https") or not url.raw_host:
        return None
    if url.user is not None or url.password is not None:
        return None
    return url


def _id_of(value: Any) -> Any:
    """A reference given as a string, an object with an id, or a list of either."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, Mapping):
        value = value.get("id")
    return value


def _same_origin(value: Any, origin: str | None) -> str | None:
    url = _http_url(value)
    if url is None or authority(str(url)) != origin:
        return None
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _shared_inbox(document: Mapping[str, Any]) -> Any:
    # Mastodon reads endpoints.sharedInbox, falling back to a top-level sharedInbox (Discourse).
    endpoints = document.get("endpoints")
    if isinstance(endpoints, Mapping):
        return _id_of(endpoints.get("sharedInbox"))
    return _id_of(document.get("sharedInbox"))


def _key_entries(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _main_key(document: Mapping[str, Any], ap_id: URL) -> tuple[str, str]:
    entries = _key_entries(document.get("publicKey"))
    if not entries:
        raise InvalidActor("publicKey is missing")
    embedded = [e for e in entries if isinstance(e, Mapping)]
    if not embedded:
        raise InvalidActor("publicKey is only a reference; an embedded key is required")
    owned = [e for e in embedded if _http_url(_id_of(e.get("owner"))) == ap_id]
    # A key without `owner` is accepted: it is asserted by the actor's own document.
    unowned = [e for e in embedded if e.get("owner") is None]
    candidates = owned or unowned
    if not candidates:
        raise InvalidActor("publicKey is not owned by this actor")
    key = candidates[0]
    key_id = key.get("id")
    key_url = _http_url(key_id)
    if key_url is None:
        raise InvalidActor("publicKey has no http(s) id")
    if authority(str(key_url)) != authority(str(ap_id)):
        raise InvalidActor("publicKey id is on another origin than the actor")
    pem = key.get("publicKeyPem")
    try:
        load_public_key(pem)
    except KeyFormatError as exc:
        raise InvalidActor(f"publicKeyPem is not usable: {exc}") from None
    return key_id, pem


def _links(value: Any) -> Iterator[tuple[Any, Any]]:
    """(href, mediaType) of each link in a `url` value: a string, a Link or a list of them."""
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            yield item, None
        elif isinstance(item, Mapping):
            yield item.get("href"), item.get("mediaType")


def _profile_url(value: Any, ap_id: URL) -> str | None:
    links = [(href, media) for href, media in _links(value) if _http_url(href) is not None]
    if not links:
        return None
    # Like Mastodon's url_to_href(…, 'text/html'): prefer the HTML page, else the first link.
    chosen = next((href for href, media in links if media == "text/html"), links[0][0])
    # Mastodon drops a profile URL on another host: it would let an actor pose as a page elsewhere.
    return chosen if same_origin(chosen, str(ap_id)) else None


def _icon_url(value: Any) -> str | None:
    # Avatars are often on a CDN (Gravatar, i0.wp.com), so any http(s) host is accepted.
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and _http_url(item) is not None:
            return item
        if isinstance(item, Mapping):
            for href, _media in _links(item.get("url")):
                if _http_url(href) is not None:
                    return href
    return None
