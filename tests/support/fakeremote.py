"""A small fediverse on one loopback port: many virtual hosts, real keys, real signatures.

Each host (e.g. `mastodon.test`) is told apart by the Host header; copnet reaches it through
its settings' host_map. The fake serves actors, NodeInfo and any documents a test registers,
signs the activities it sends to copnet, and records (and verifies) what copnet delivers.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from federation.content_digest import content_digest
from federation.keyresolver import KeyResolver
from federation.keys import generate_rsa_keypair, load_private_key
from federation.rfc9421_sign import sign_request_rfc9421
from federation.signature_header import SignatureError
from federation.signatures import sign_request
from tests.support.fixtures import load_fixture

AS2 = "application/activity+json"
# Generating RSA keys is slow; tests reuse a few.
_KEY_POOL: list[tuple[str, str]] = []


def pooled_keypair(index: int) -> tuple[str, str]:
    """A cached RSA key pair (index selects which)."""
    while len(_KEY_POOL) <= index:
        _KEY_POOL.append(generate_rsa_keypair())
    return _KEY_POOL[index]


@dataclass
class FakeActor:
    """A remote actor served by the fake fediverse."""

    id: str
    host: str
    name: str
    private_pem: str
    public_pem: str
    document: dict

    @property
    def key_id(self) -> str:
        return self.document["publicKey"]["id"]

    @property
    def inbox(self) -> str:
        return self.document["inbox"]


@dataclass
class Delivery:
    """One POST copnet made to the fake."""

    host: str
    path: str
    headers: dict
    body: bytes
    activity: dict
    verified_by: str | None = None


@dataclass
class FakeFediverse:
    """The fake remote servers; start with `await fake.start(aiohttp_server)`."""

    port: int = 0
    documents: dict[tuple[str, str], Any] = field(default_factory=dict)
    software: dict[str, str] = field(default_factory=dict)
    actors: dict[str, FakeActor] = field(default_factory=dict)
    received: list[Delivery] = field(default_factory=list)
    status_for: dict[str, int] = field(default_factory=dict)
    key_resolver: KeyResolver | None = None
    gets: list[tuple[str, str]] = field(default_factory=list)
    # Hosts whose inbox knows only draft-cavage: an RFC 9421 signature gets 401, like
    # Mastodon before 4.5 ("Incompatible request signature").
    cavage_only: set[str] = field(default_factory=set)
    # Hosts whose inbox wants RFC 9421: a draft-cavage signature gets 401 and the host's
    # Accept-Signature hint (RFC 9421 §5.1).
    rfc9421_only: dict[str, str] = field(default_factory=dict)
    # Every signed request that reached a host: (host, method, path, "rfc9421" or "cavage").
    knocks: list[tuple[str, str, str, str]] = field(default_factory=list)

    async def start(self, aiohttp_server) -> FakeFediverse:
        """Run the fake on a free port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        server = await aiohttp_server(app)
        self.port = server.port
        return self

    def base(self, host: str) -> str:
        """The base URL of a fake host."""
        return f"http://{host}:{self.port}"

    def hosts(self) -> set[str]:
        """Every host name the fake answers for."""
        return {host for host, _path in self.documents} | set(self.software)

    def host_map(self, *extra: str) -> dict[str, str]:
        """A resolver map sending every fake host (and `extra` names) to loopback."""
        return {host: "127.0.0.1" for host in (*self.hosts(), *extra)}

    def serve(self, url: str, document: Any) -> None:
        """Serve `document` at `url` (a URL on one of the fake hosts)."""
        parsed = aiohttp.client.URL(url)
        self.documents[(parsed.host, parsed.path)] = document

    def add_host(self, host: str, software: str = "mastodon") -> None:
        """Declare a host and the software its NodeInfo reports."""
        self.software[host] = software

    def actor(
        self,
        host: str,
        name: str,
        *,
        software: str = "mastodon",
        type_: str = "Person",
        key_index: int = 0,
        shared_inbox: bool = True,
    ) -> FakeActor:
        """Create (or return) an actor at http://host:port/users/name."""
        actor_id = f"{self.base(host)}/users/{name}"
        if actor_id in self.actors:
            return self.actors[actor_id]
        self.add_host(host, software)
        private_pem, public_pem = pooled_keypair(key_index)
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": type_,
            "preferredUsername": name,
            "name": name.title(),
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "followers": f"{actor_id}/followers",
            "url": f"{self.base(host)}/@{name}",
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_pem,
            },
        }
        if shared_inbox:
            document["endpoints"] = {"sharedInbox": f"{self.base(host)}/inbox"}
        actor = FakeActor(actor_id, host, name, private_pem, public_pem, document)
        self.actors[actor_id] = actor
        self.serve(actor_id, document)
        return actor

    def actor_at(self, url: str, *, type_: str = "Person", key_index: int = 0) -> FakeActor:
        """An actor served at an arbitrary URL on a fake host (for fixtures' actor ids)."""
        if url in self.actors:
            return self.actors[url]
        parsed = aiohttp.client.URL(url)
        private_pem, public_pem = pooled_keypair(key_index)
        name = parsed.path.rstrip("/").rsplit("/", 1)[-1] or parsed.host
        self.software.setdefault(parsed.host, "mastodon")
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": url,
            "type": type_,
            "preferredUsername": name,
            "inbox": f"{url}/inbox",
            "endpoints": {"sharedInbox": f"{self.base(parsed.host)}/inbox"},
            "publicKey": {"id": f"{url}#main-key", "owner": url, "publicKeyPem": public_pem},
        }
        actor = FakeActor(url, parsed.host, name, private_pem, public_pem, document)
        self.actors[url] = actor
        self.serve(url, document)
        return actor

    def fixture(self, relative: str, replace: dict[str, str] | None = None) -> dict:
        """A captured fixture with its hosts moved onto the fake (https://h/ -> http://h:port/)."""
        text = json.dumps(load_fixture(relative))
        for old, new in (replace or {}).items():
            text = text.replace(old, new)
        text = re.sub(
            r"https?://([a-z0-9_.\-]+)(?=/|\")",
            lambda m: self.base(m.group(1)) if m.group(1) not in _KEEP_HOSTS else m.group(0),
            text,
        )
        return json.loads(text)

    def new_id(self, actor: FakeActor, kind: str = "activities") -> str:
        """A fresh URL on the actor's host."""
        return f"{self.base(actor.host)}/{kind}/{uuid.uuid4()}"

    async def send(
        self,
        actor: FakeActor,
        inbox: str,
        activity: dict,
        *,
        session: aiohttp.ClientSession,
        signer: FakeActor | None = None,
        tamper=None,
        rfc9421: bool = False,
    ) -> aiohttp.ClientResponse:
        """POST an activity to copnet, signed by `signer` (default: the actor), with
        draft-cavage or, with `rfc9421`, RFC 9421."""
        signer = signer or actor
        body = json.dumps(activity).encode()
        key = load_private_key(signer.private_pem)
        if rfc9421:
            headers = sign_request_rfc9421(
                "POST",
                inbox,
                {"Content-Type": AS2},
                key_id=signer.key_id,
                private_key=key,
                digest=content_digest(body),
            )
        else:
            headers = sign_request(
                "POST", inbox, {"Content-Type": AS2}, body, key_id=signer.key_id, private_key=key
            )
        if tamper is not None:
            headers, body = tamper(headers, body)
        async with session.post(inbox, data=body, headers=headers) as response:
            await response.read()
            return response

    def deliveries(self, type_: str | None = None, host: str | None = None) -> list[Delivery]:
        """What copnet delivered, optionally of one activity type or to one host."""
        return [
            d
            for d in self.received
            if (type_ is None or d.activity.get("type") == type_)
            and (host is None or d.host == host)
        ]

    def knocks_to(self, host: str) -> list[str]:
        """The standard of each signed request that reached `host`, in order."""
        return [standard for h, _m, _p, standard in self.knocks if h == host]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        host = (request.host or "").split(":")[0]
        if "Signature" in request.headers:
            standard = "rfc9421" if "Signature-Input" in request.headers else "cavage"
            self.knocks.append((host, request.method, request.path, standard))
            if standard == "rfc9421" and host in self.cavage_only:
                error = "Incompatible request signature. keyId and signature are required"
                return web.json_response({"error": error}, status=401)
            if standard == "cavage" and host in self.rfc9421_only:
                hint = {"Accept-Signature": self.rfc9421_only[host]}
                error = "this server reads RFC 9421 signatures only"
                return web.json_response({"error": error}, status=401, headers=hint)
        if request.method == "POST":
            return await self._receive(request, host)
        self.gets.append((host, request.path))
        if request.path == "/.well-known/nodeinfo" and host in self.software:
            href = f"{self.base(host)}/nodeinfo/2.1"
            rel = "http://nodeinfo.diaspora.software/ns/schema/2.1"
            return web.json_response({"links": [{"rel": rel, "href": href}]})
        if request.path == "/nodeinfo/2.1" and host in self.software:
            return web.json_response(
                {
                    "version": "2.1",
                    "software": {"name": self.software[host], "version": "1.0"},
                    "protocols": ["activitypub"],
                    "usage": {"users": {}},
                    "openRegistrations": False,
                }
            )
        document = self.documents.get((host, request.path))
        if document is None:
            return web.json_response({"error": "not found"}, status=404)
        if isinstance(document, int):
            return web.json_response({"error": "status"}, status=document)
        return web.json_response(document, content_type=AS2)

    async def _receive(self, request: web.Request, host: str) -> web.Response:
        body = await request.read()
        delivery = Delivery(
            host=host,
            path=request.path,
            headers=dict(request.headers),
            body=body,
            activity=json.loads(body),
        )
        if self.key_resolver is not None:
            try:
                key = await self.key_resolver.verify(
                    "POST", request.path_qs, request.headers, body, scheme="http"
                )
                delivery.verified_by = key.owner
            except SignatureError as error:
                return web.json_response({"error": error.reason}, status=401)
        self.received.append(delivery)
        return web.json_response({}, status=self.status_for.get(host, 202))


# Vocabulary and context URLs inside fixtures must not be rewritten.
_KEEP_HOSTS = {
    "www.w3.org",
    "w3id.org",
    "join-lemmy.org",
    "joinmastodon.org",
    "ostatus.org",
    "schema.org",
    "purl.org",
    "joinmobilizon.org",
    "litepub.social",
    "misskey-hub.net",
    "docs.joinmastodon.org",
    "joinpeertube.org",
    "nodeinfo.diaspora.software",
    "funkwhale.audio",
    "pleroma.social",
}


def deep_copy(document: dict) -> dict:
    """A copy a test may change freely."""
    return copy.deepcopy(document)


TEST_HOSTS = (
    "copnet.test",
    "copnet-b.test",
    "mastodon.test",
    "lemmy.test",
    "gotosocial.test",
    "pleroma.test",
    "mobilizon.test",
    "blocked.test",
    "partner.test",
    "unknown.test",
    "fedify.test",
    "oldtodon.test",
    "strict.test",
)


def fixture_hosts() -> set[str]:
    """Every host named in the captured fixtures (so copnet can reach their fakes)."""
    from tests.support.fixtures import FIXTURES

    found: set[str] = set()
    for path in FIXTURES.rglob("*.json"):
        found.update(re.findall(r"https?://([a-z0-9_.\-]+)(?=[/\"])", path.read_text()))
    return found - _KEEP_HOSTS


def loopback_host_map() -> dict[str, str]:
    """Test and fixture host names, all on 127.0.0.1."""
    return {host: "127.0.0.1" for host in (*TEST_HOSTS, *fixture_hosts())}
