"""ActivityStreams vocabulary constants shared by every document copnet sends."""

from __future__ import annotations

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AS2_MEDIA_TYPE = "application/activity+json"
LD_JSON_AS2 = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'

# Extension terms other servers read on actors (Lemmy, Mastodon).
ACTOR_EXTENSIONS = {
    "lemmy": "https://join-lemmy.org/ns#",
    "toot": "http://joinmastodon.org/ns#",
    "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
    "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
    "discoverable": "toot:discoverable",
    "indexable": "toot:indexable",
    "featured": {"@id": "toot:featured", "@type": "@id"},
    "sensitive": "as:sensitive",
    "mz": "https://joinmobilizon.org/ns#",
    "resources": {"@id": "mz:resources", "@type": "@id"},
    # FEP-8a8e (event objects): a group's upcoming events, soonest first.
    "fep8a8e": "https://w3id.org/fep/8a8e/",
    "upcomingEvents": {"@id": "fep8a8e:upcomingEvents", "@type": "@id"},
}
ACTOR_CONTEXT = [AS_CONTEXT, SECURITY_CONTEXT, ACTOR_EXTENSIONS]
COLLECTION_CONTEXT = AS_CONTEXT


def format_datetime(value) -> str:
    """An AS2 xsd:dateTime in UTC with a `Z` suffix."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
