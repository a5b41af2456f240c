"""AS2 documents for local actors and their collections."""

from __future__ import annotations

from federation.vocab import ACTOR_CONTEXT, format_datetime
from models.actors import Actor
from models.communities import Community
from server.urls import Urls

# The instance actor's collections: all empty, all served (server.views.actors).
INSTANCE_COLLECTIONS = ("outbox", "featured", "followers", "following")


def public_key(actor_url: str, urls: Urls, pem: str) -> dict:
    """The `publicKey` block of an actor."""
    return {"id": urls.key_id(actor_url), "owner": actor_url, "publicKeyPem": pem}


def instance_actor_document(actor: Actor, urls: Urls, *, name: str) -> dict:
    """The instance actor: an `Application` that signs fetches made for the whole server."""
    actor_url = urls.instance_actor()
    return {
        "@context": ACTOR_CONTEXT,
        "id": actor_url,
        "type": "Application",
        "preferredUsername": actor.local_name,
        "name": name,
        "summary": f"<p>The instance actor of the {name} Network.</p>",
        "url": urls.root,
        "inbox": urls.shared_inbox(),
        # GoToSocial dereferences `featured` on every fetch of an actor and logs an error when
        # it is missing, then counts followers, following and outbox (gotosocial
        # internal/federation/dereferencing/account.go: dereferenceAccountFeatured,
        # dereferenceAccountStats); Mastodon reads the same (ActivityPub::ProcessAccountService).
        **{part: urls.instance_actor_part(part) for part in INSTANCE_COLLECTIONS},
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "manuallyApprovesFollowers": True,
        "discoverable": False,
        "publicKey": public_key(actor_url, urls, actor.public_key_pem),
        "published": format_datetime(actor.published),
    }


def group_document(community: Community, urls: Urls) -> dict:
    """A CoP's `Group` actor as Lemmy, Mastodon and Mobilizon read it."""
    actor = community.actor
    name = actor.local_name
    assert name is not None
    actor_url = urls.community(name)
    return {
        "@context": ACTOR_CONTEXT,
        "id": actor_url,
        "type": "Group",
        "preferredUsername": name,
        "name": actor.display_name or name,
        "summary": actor.summary_html,
        "source": {"content": actor.summary_source, "mediaType": "text/markdown"},
        "mediaType": "text/html",
        "url": actor_url,
        "inbox": urls.community_part(name, "inbox"),
        "outbox": urls.community_part(name, "outbox"),
        "followers": urls.community_part(name, "followers"),
        "featured": urls.community_part(name, "featured"),
        "upcomingEvents": urls.community_part(name, "events"),
        "attributedTo": urls.community_part(name, "moderators"),
        "resources": urls.community_part(name, "resources"),
        "postingRestrictedToMods": community.posting_restricted_to_mods,
        "manuallyApprovesFollowers": community.manually_approves_followers,
        "discoverable": community.discoverable,
        "indexable": community.discoverable,
        "sensitive": False,
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "publicKey": public_key(actor_url, urls, actor.public_key_pem),
        "icon": {"type": "Image", "mediaType": "image/png", "url": urls.community_icon(name)},
        "published": format_datetime(community.created_at),
        "updated": format_datetime(actor.updated),
    }


def person_icon_url(urls: Urls, name: str, picture: str | None) -> str:
    """The member's chosen picture, else their generated icon."""
    return urls.person_picture(name, picture) if picture else urls.person_part(name, "icon.png")


def person_document(actor: Actor, urls: Urls, *, picture: str | None = None) -> dict:
    """A member's `Person` actor, as Mastodon, Lemmy and other servers read it.

    `picture` is the digest of the member's re-encoded picture: the icon's URL changes with it,
    which is what makes Mastodon and GoToSocial fetch the new one.
    """
    name = actor.local_name
    assert name is not None
    actor_url = urls.person(name)
    return {
        "@context": ACTOR_CONTEXT,
        "id": actor_url,
        "type": "Person",
        "preferredUsername": name,
        "name": actor.display_name or name,
        "summary": actor.summary_html,
        "source": {"content": actor.summary_source, "mediaType": "text/markdown"},
        "url": actor_url,
        "inbox": urls.person_part(name, "inbox"),
        "outbox": urls.person_part(name, "outbox"),
        "followers": urls.person_part(name, "followers"),
        "following": urls.person_part(name, "following"),
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "publicKey": public_key(actor_url, urls, actor.public_key_pem),
        "icon": {
            "type": "Image",
            "mediaType": "image/png",
            "url": person_icon_url(urls, name, picture),
        },
        "published": format_datetime(actor.published),
        "updated": format_datetime(actor.updated),
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        # Members talk about care work; keep their posts out of full-text search by default.
        "indexable": False,
    }
