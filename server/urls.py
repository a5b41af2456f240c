"""Every public URL copnet serves, built from the configured base URL."""

from __future__ import annotations

from yarl import URL


class Urls:
    """Builds absolute URLs for local actors and collections."""

    def __init__(self, base: str):
        self.base = URL(base)
        self.root = str(self.base.origin()) + "/"

    def _join(self, path: str) -> str:
        return str(self.base.origin().with_path(path))

    def instance_actor(self) -> str:
        """The instance actor (signs fetches not made on behalf of a CoP)."""
        return self._join("/actor")

    def instance_actor_part(self, part: str) -> str:
        """One of the instance actor's (always empty) collections, e.g. "outbox"."""
        return self._join(f"/actor/{part}")

    def shared_inbox(self) -> str:
        """The shared inbox for every local actor."""
        return self._join("/inbox")

    def community(self, name: str) -> str:
        """A CoP's Group actor, which is also its web page."""
        return self._join(f"/c/{name}")

    def community_part(self, name: str, part: str) -> str:
        """A CoP's inbox, outbox, followers, featured or moderators URL."""
        return self._join(f"/c/{name}/{part}")

    def community_icon(self, name: str) -> str:
        """The CoP's generated avatar."""
        return self._join(f"/c/{name}/icon.png")

    def key_id(self, actor_url: str) -> str:
        """The keyId of an actor's main key."""
        return f"{actor_url}#main-key"

    def nodeinfo(self, version: str) -> str:
        """The NodeInfo document of the given schema version."""
        return self._join(f"/nodeinfo/{version}")

    def webfinger_template(self) -> str:
        """The lrdd template advertised by host-meta."""
        return self._join("/.well-known/webfinger") + "?resource={uri}"

    def person(self, name: str) -> str:
        """A local member's Person actor."""
        return self._join(f"/u/{name}")

    def person_part(self, name: str, part: str) -> str:
        """A member's inbox, outbox, followers, following or icon URL."""
        return self._join(f"/u/{name}/{part}")

    def basecamp(self, event_id: int) -> str:
        """A Basecamp's ActivityPub id, which is also its page."""
        return self._join(f"/b/{event_id}")

    def basecamp_part(self, event_id: int, part: str) -> str:
        """A Basecamp's poll, attendees collection, .ics, RSVP or edit URL."""
        if part == "ics":
            return self._join(f"/b/{event_id}.ics")
        return self._join(f"/b/{event_id}/{part}")

    def document(self, document_id: int) -> str:
        """A document's id and page."""
        return self._join(f"/d/{document_id}")

    def document_version(self, document_id: int, version_id: int) -> str:
        """The download URL of one version of a document (its bytes never change)."""
        return self._join(f"/d/{document_id}/v/{version_id}")

    def harvest_page(self, page_id: int) -> str:
        """A harvest page's id (its Article) and its page for people."""
        return self._join(f"/h/{page_id}")

    def harvest_page_part(self, page_id: int, part: str) -> str:
        """A harvest page's history, print view or one revision's Update."""
        return self._join(f"/h/{page_id}/{part}")

    def post_replies(self, post_id: int) -> str:
        """The replies collection of a post written here."""
        return self._join(f"/p/{post_id}/replies")

    def person_picture(self, name: str, sha256: str) -> str:
        """A member's chosen profile picture (re-encoded PNG), named by its digest."""
        return self._join(f"/u/{name}/picture/{sha256}.png")

    def mail_settings(self) -> str:
        """The member's mail preferences page."""
        return self._join("/settings/mail")

    def verify_email(self, token: str) -> str:
        """The link that proves a member reads their address."""
        return self._join(f"/mail/verify/{token}")

    def password_reset(self, token: str) -> str:
        """The single-use link to choose a new password."""
        return self._join(f"/password/reset/{token}")

    def unsubscribe(self, account_id: int, list_name: str, signature: str) -> str:
        """A one-click unsubscribe link (RFC 8058), valid without signing in."""
        return self._join(f"/mail/unsubscribe/{account_id}/{list_name}/{signature}")

    def actor(self, actor) -> str:
        """The ActivityPub id of any actor row, local or remote."""
        if actor.ap_id:
            return actor.ap_id
        if actor.type == "Application":
            return self.instance_actor()
        if actor.type == "Group":
            return self.community(actor.local_name)
        return self.person(actor.local_name)

    def activity(self, key: str) -> str:
        """An activity this server sent."""
        return self._join(f"/activities/{key}")

    def post(self, post_id: int) -> str:
        """A post written on this server (its ActivityPub id)."""
        return self._join(f"/p/{post_id}")

    def thread(self, root_id: int) -> str:
        """A thread's page on this Network."""
        return self._join(f"/t/{root_id}")

    def thread_context(self, root_id: int) -> str:
        """The thread's FEP-7888 context collection."""
        return self._join(f"/t/{root_id}/context")

    def network_feed(self) -> str:
        """The Atom feed of new threads across the Network's CoPs."""
        return self._join("/threads.atom")

    def basecamps(self) -> str:
        """The page listing the Network's Basecamps."""
        return self._join("/basecamps")

    def basecamps_feed(self) -> str:
        """The Atom feed of the Network's Basecamps."""
        return self._join("/basecamps.atom")

    def community_feed(self, name: str) -> str:
        """The Atom feed of a CoP's new threads."""
        return self._join(f"/c/{name}/threads.atom")

    def thread_feed(self, root_id: int) -> str:
        """The Atom feed of a thread's replies."""
        return self._join(f"/t/{root_id}/replies.atom")

    def person_feed(self, name: str) -> str:
        """The Atom feed of a member's posts."""
        return self._join(f"/u/{name}/posts.atom")

    def post_id_of(self, post) -> str:
        """The ActivityPub id of an archived post, remote or ours."""
        return post.ap_id or self.post(post.id)

    def local_path(self, url: str | None) -> list[str] | None:
        """The path segments of `url` when it is on this server, else None."""
        if not url:
            return None
        try:
            parsed = URL(url)
            if parsed.origin() != self.base.origin():  # origin() refuses a relative URL
                return None
        except ValueError:
            return None
        return parsed.path.strip("/").split("/")

    def parse_local(self, url: str | None) -> tuple[str, str] | None:
        """("c"|"u"|"p"|"t"|"actor", name or id) when `url` is one of ours, else None."""
        parts = self.local_path(url)
        if parts is None:
            return None
        if parts == ["actor"]:
            return ("actor", "instance")
        if len(parts) >= 2 and parts[0] in ("c", "u", "p", "t") and parts[1]:
            if len(parts) == 2 or (parts[0] == "c" and parts[2:] == ["followers"]):
                return (parts[0], parts[1])
        return None
