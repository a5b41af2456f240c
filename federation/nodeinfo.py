"""Which software a remote server runs (NodeInfo), and which Announce form it understands."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from yarl import URL

from federation.fetch import FetchBudget, FetchBudgetExceeded, Fetcher, FetchError
from federation.origin import authority

AudienceKind = Literal["microblog", "threadiverse"]

# Servers that show a plain `Announce{object: "<id>"}` as a boost but ignore an Announce that
# embeds an activity (mbin #836: Mastodon drops Announce(Create)). Listed for documentation;
# anything not in THREADIVERSE_SOFTWARE is treated the same way.
MICROBLOG_SOFTWARE = frozenset(
    {
        "mastodon",
        "hometown",
        "glitch-soc",
        "gotosocial",
        "pleroma",
        "akkoma",
        "misskey",
        "sharkey",
        "firefish",
        "iceshrimp",
        "calckey",
        "foundkey",
        "hollo",
        "snac",
        "gnusocial",
        # Mobilizon documents Announce of objects only (framasoft/mobilizon activity_pub.md).
        "mobilizon",
    }
)

# Servers that unwrap FEP-1b12 `Announce{object: <activity>}` from a Group and process the
# inner activity, so they also receive replies, edits, deletes and likes.
THREADIVERSE_SOFTWARE = frozenset(
    {
        "lemmy",
        "piefed",
        "mbin",
        "kbin",
        "lotide",
        "nodebb",
        "copnet",
        # Discourse: discourse-activity-pub ap/activity/announce.rb processes wrapped activities.
        "discourse",
        # Friendica: Protocol/ActivityPub/Receiver.php "Lemmy announces activities" unwraps
        # Announce(Create|Like|...) from groups; FEP-1b12 lists it (and Hubzilla) as implementers.
        "friendica",
        "hubzilla",
    }
)

_SCHEMA = re.compile(r"https?://nodeinfo\.diaspora\.software/ns/schema/2\.(\d+)")
_NAME_LENGTH = 64  # the instances table's software columns


def audience_kind(software: str | None) -> AudienceKind:
    """`threadiverse` for FEP-1b12 software, else `microblog` (a plain Announce works anywhere)."""
    if software and software.strip().lower() in THREADIVERSE_SOFTWARE:
        return "threadiverse"
    return "microblog"


def pick_nodeinfo_href(index: Mapping[str, Any], origin_host: str) -> str | None:
    """The href of the highest NodeInfo 2.x link in a well-known document, if on origin_host
    (an `authority`: host, and port when not the default)."""
    links = index.get("links")
    if not isinstance(links, list):
        return None
    best: tuple[int, str] | None = None
    for link in links:
        if not isinstance(link, Mapping):
            continue
        match = _SCHEMA.fullmatch(str(link.get("rel", "")))
        href = link.get("href")
        if match is None or not isinstance(href, str) or authority(href) != origin_host:
            continue
        minor = int(match.group(1))
        if best is None or minor > best[0]:
            best = (minor, href)
    return best[1] if best else None


def software_of(document: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(name, version) from a NodeInfo document; the name lowercased as the schema requires."""
    software = document.get("software")
    if not isinstance(software, Mapping):
        return None
    name = software.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    version = software.get("version")
    version = version.strip()[:_NAME_LENGTH] if isinstance(version, str) else None
    return name.strip().lower()[:_NAME_LENGTH], version or None


async def fetch_software(
    fetcher: Fetcher, domain_url: str, *, budget: FetchBudget | None = None
) -> tuple[str, str | None] | None:
    """(name, version) from the server at domain_url's origin, or None if it has no NodeInfo."""
    origin = URL(domain_url).origin()
    host = authority(str(origin))
    try:
        index, final = await fetcher.fetch_plain_json(
            str(origin / ".well-known/nodeinfo"), budget=budget
        )
        href = pick_nodeinfo_href(index, host) if authority(final) == host else None
        if href is None:
            return None
        document, final = await fetcher.fetch_plain_json(href, budget=budget)
    except FetchBudgetExceeded:
        raise
    except FetchError:
        return None
    # A redirect may not hand the answer to another host.
    return software_of(document) if authority(final) == host else None
