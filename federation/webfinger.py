"""WebFinger lookups: from `@name@host` to an actor's ActivityPub id (RFC 7033)."""

from __future__ import annotations

import re

from yarl import URL

from federation.fetch import FetchBudget, Fetcher, FetchError

HANDLE = re.compile(r"@?(?P<name>[^@\s/:]+)@(?P<host>[a-z0-9.\-]+(?::\d+)?)", re.IGNORECASE)
AS2_TYPES = (
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
)


class HandleError(ValueError):
    """The text is not a handle, or its server does not know it."""


def parse_handle(text: str) -> tuple[str, str]:
    """(name, host) of `@name@host` or `name@host`; HandleError otherwise."""
    match = HANDLE.fullmatch(text.strip())
    if match is None:
        raise HandleError(f"{text!r} is not an address like @name@example.org")
    return match.group("name"), match.group("host").lower()


def self_link(document: dict) -> str | None:
    """The ActivityPub id in a WebFinger answer (its `self` link of an AS2 type)."""
    for link in document.get("links") or []:
        if (
            isinstance(link, dict)
            and link.get("rel") == "self"
            and link.get("type") in AS2_TYPES
            and isinstance(link.get("href"), str)
        ):
            return link["href"]
    return None


async def resolve_handle(
    fetcher: Fetcher,
    text: str,
    *,
    schemes: tuple[str, ...] = ("https",),
    budget: FetchBudget | None = None,
) -> str:
    """The actor id behind a handle, asked of its own server's WebFinger."""
    name, host = parse_handle(text)
    problem = "no answer"
    for scheme in schemes:
        url = URL.build(scheme=scheme, authority=host, path="/.well-known/webfinger")
        url = url.with_query(resource=f"acct:{name}@{host}")
        try:
            document, _final = await fetcher.fetch_plain_json(
                str(url), budget=budget, accept="application/jrd+json, application/json"
            )
        except FetchError as error:
            problem = error.reason
            continue
        actor = self_link(document)
        if actor is None:
            raise HandleError(f"{host} knows no ActivityPub actor @{name}")
        return actor
    raise HandleError(f"could not look up @{name}@{host}: {problem}")
