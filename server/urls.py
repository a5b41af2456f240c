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

    def actor(self, actor) -> str:
        """The ActivityPub id of any actor row, local or remote."""
        if actor.ap_id:
            return actor.ap_id
        if actor.type == "Application":
            return self.instance_actor()
        if actor.type == "Group":
            return self.community(actor.local_name)
        return self.person(actor.local_name)
