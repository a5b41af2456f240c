"""RemoteActors against real loopback HTTP serving captured actors, on both databases."""

from __future__ import annotations

import asyncio
import copy
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select
from yarl import URL

from federation.actors import InvalidActor
from federation.fetch import FetchBudget, Fetcher, FetchError, FetchPolicy, GoneError
from federation.keys import generate_rsa_keypair
from federation.netguard import make_connector
from models.actors import INSTANCE_ACTOR_NAME, Actor, create_local_actor, ensure_instance_actor
from models.communities import create_community
from models.database import create_engine, session_factory
from models.instances import Instance
from models.policy_queries import set_domain
from server.peers.policy import DomainBlocked, FederationPolicy
from server.peers.remote import LocalActorNotFound, RemoteActors
from server.urls import Urls
from tests.support.fixtures import load_fixture

LOCAL = "https://copnet.test"
HOSTS = ("mastodon.test", "lemmy.test", "wordpress.test", "lotide.test", "gts.test", "spam.test")
AS2 = "application/activity+json"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"


def rehost(value: Any, old_origin: str, new_origin: str) -> Any:
    """A deep copy of a JSON value with every string's old origin replaced by the new one."""
    if isinstance(value, str):
        return value.replace(old_origin, new_origin)
    if isinstance(value, list):
        return [rehost(v, old_origin, new_origin) for v in value]
    if isinstance(value, dict):
        return {k: rehost(v, old_origin, new_origin) for k, v in value.items()}
    return value


class Fediverse:
    """One loopback server impersonating several remote hosts, keyed by host and path+query."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], tuple[int, Any, str]] = {}
        self.hits: Counter[tuple[str, str]] = Counter()
        self.holds: dict[tuple[str, str], tuple[int, asyncio.Event]] = {}
        self.port = 0
        self.app = web.Application()
        self.app.router.add_get("/{tail:.*}", self._answer)

    def origin(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def serve(self, url: str, doc: Any, *, status: int = 200, content_type: str = AS2) -> None:
        parsed = URL(url)
        self.routes[(parsed.host, parsed.raw_path_qs)] = (status, doc, content_type)

    def serve_fixture(self, name: str, host: str) -> dict:
        """Serve a captured document as if `host` had sent it; returns the rewritten copy."""
        original = load_fixture(name)
        doc = rehost(original, str(URL(original["id"]).origin()), self.origin(host))
        self.serve(doc["id"], doc)
        return doc

    def serve_nodeinfo(self, host: str, name: str, version: str = "1.0") -> None:
        href = self.origin(host) + "/nodeinfo/2.1"
        index = {"links": [{"rel": NODEINFO_21, "href": href}]}
        self.serve(
            self.origin(host) + "/.well-known/nodeinfo", index, content_type="application/json"
        )
        doc = {"version": "2.1", "software": {"name": name, "version": version}}
        self.serve(href, doc, content_type="application/json")

    def hold(self, url: str, until: int) -> None:
        """Keep answers to url waiting until `until` requests for it have arrived."""
        parsed = URL(url)
        self.holds[(parsed.host, parsed.raw_path_qs)] = (until, asyncio.Event())

    def count(self, url: str) -> int:
        parsed = URL(url)
        return self.hits[(parsed.host, parsed.raw_path_qs)]

    def total(self) -> int:
        return sum(self.hits.values())

    async def _answer(self, request: web.Request) -> web.Response:
        key = (request.host.rsplit(":", 1)[0], request.raw_path)
        self.hits[key] += 1
        if key in self.holds:
            until, arrived = self.holds[key]
            if self.hits[key] >= until:
                arrived.set()
            await arrived.wait()
        if key not in self.routes:
            return web.Response(status=404, text="not found")
        status, doc, content_type = self.routes[key]
        return web.Response(status=status, text=json.dumps(doc), content_type=content_type)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def fediverse(aiohttp_server):
    fake = Fediverse()
    fake.port = (await aiohttp_server(fake.app)).port
    return fake


@pytest.fixture
async def fetcher():
    connector = make_connector(allow_private=True, host_map={h: "127.0.0.1" for h in HOSTS})
    async with aiohttp.ClientSession(connector=connector) as session:
        yield Fetcher(session, FetchPolicy(allow_private=True))


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def remote(sessions, fetcher, clock):
    return RemoteActors(sessions, fetcher, Urls(LOCAL), local_domain="copnet.test", clock=clock)


async def stored(sessions, ap_id: str) -> list[Actor]:
    async with sessions() as session:
        return list(await session.scalars(select(Actor).where(Actor.ap_id == ap_id)))


# --- fetching and caching -------------------------------------------------------------------


async def test_fetches_a_mastodon_person_and_stores_it(remote, fediverse, sessions, clock):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "mastodon.test")
    actor = await remote.get(doc["id"])
    assert not actor.is_local
    assert actor.ap_id == doc["id"]
    assert (actor.type, actor.username, actor.display_name) == ("Person", "mastodon", "Mastodon")
    assert actor.domain == f"mastodon.test:{fediverse.port}"
    assert actor.inbox_url == doc["inbox"]
    assert actor.shared_inbox_url == fediverse.origin("mastodon.test") + "/inbox"
    assert actor.followers_url == doc["followers"]
    assert actor.url == doc["url"]
    assert actor.public_key_id == doc["publicKey"]["id"]
    assert actor.public_key_pem == doc["publicKey"]["publicKeyPem"]
    assert actor.fetched_at == clock.now
    assert actor.gone is False
    assert [a.id for a in await stored(sessions, doc["id"])] == [actor.id]


@pytest.mark.parametrize(
    ("name", "host"),
    [
        ("lemmy/objects/group.json", "lemmy.test"),
        ("lemmy/objects/instance.json", "lemmy.test"),  # id is the site root, "/"
        ("wordpress/objects/group.json", "wordpress.test"),  # id has a query, ?author=0
        ("lotide/objects/person.json", "lotide.test"),  # key id with a doubled slash
        ("mbin/objects/instance.json", "lemmy.test"),
    ],
)
async def test_other_real_actors_round_trip(remote, fediverse, name, host):
    doc = fediverse.serve_fixture(name, host)
    actor = await remote.get(doc["id"])
    assert (actor.ap_id, actor.type) == (doc["id"], doc["type"])
    assert actor.username == doc["preferredUsername"]
    assert actor.public_key_id == doc["publicKey"]["id"]


async def test_cached_actor_is_served_without_network_until_stale(remote, fediverse, clock):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "mastodon.test")
    first = await remote.get(doc["id"])
    clock.now += timedelta(hours=23)
    assert (await remote.get(doc["id"])).id == first.id
    assert fediverse.count(doc["id"]) == 1
    clock.now += timedelta(hours=1)
    refreshed = await remote.get(doc["id"])
    assert fediverse.count(doc["id"]) == 2
    assert (refreshed.id, refreshed.fetched_at) == (first.id, clock.now)
    await remote.get(doc["id"], refresh=True)
    assert fediverse.count(doc["id"]) == 3


async def test_a_refresh_picks_up_changes(remote, fediverse):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "mastodon.test")
    await remote.get(doc["id"])
    _, new_pem = generate_rsa_keypair()
    changed = copy.deepcopy(doc)
    changed["name"] = "Renamed"
    changed["publicKey"]["publicKeyPem"] = new_pem
    fediverse.serve(doc["id"], changed)
    actor = await remote.get(doc["id"], refresh=True)
    assert (actor.display_name, actor.public_key_pem) == ("Renamed", new_pem)


async def test_summary_is_sanitised_and_long_names_are_cut(remote, fediverse):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "mastodon.test")
    doc["summary"] = '<p>Hi<script>alert(1)</script><a href="javascript:x()">x</a></p>'
    doc["name"] = "N" * 400
    fediverse.serve(doc["id"], doc)
    actor = await remote.get(doc["id"])
    assert "<script" not in actor.summary_html and "javascript:" not in actor.summary_html
    assert actor.summary_html.startswith("<p>Hi")
    assert actor.display_name == "N" * 255


async def test_an_alias_url_stores_the_canonical_id(remote, fediverse, sessions):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "mastodon.test")
    alias = fediverse.origin("mastodon.test") + "/@mastodon"
    fediverse.serve(alias, doc)
    actor = await remote.get(alias)
    assert actor.ap_id == doc["id"]
    assert await stored(sessions, alias) == []


async def test_the_fetch_budget_is_spent(remote, fediverse):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "mastodon.test")
    budget = FetchBudget(limit=1)
    await remote.get(doc["id"], budget=budget)
    assert budget.remaining == 0


async def test_concurrent_first_fetches_make_one_row(remote, fediverse, sessions):
    doc = fediverse.serve_fixture("lemmy/objects/group.json", "lemmy.test")
    # Every coroutine is past the cache check before any answer arrives: all of them insert.
    fediverse.hold(doc["id"], until=5)
    actors = await asyncio.gather(*(remote.get(doc["id"]) for _ in range(5)))
    assert fediverse.count(doc["id"]) == 5
    assert len({a.id for a in actors}) == 1
    assert len(await stored(sessions, doc["id"])) == 1


# --- failures -------------------------------------------------------------------------------


async def test_gone_actor_is_marked_and_not_fetched_again(remote, fediverse, sessions):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "mastodon.test")
    await remote.get(doc["id"])
    fediverse.serve(doc["id"], {"error": "gone"}, status=410)
    with pytest.raises(GoneError):
        await remote.get(doc["id"], refresh=True)
    [row] = await stored(sessions, doc["id"])
    assert row.gone is True
    with pytest.raises(GoneError):
        await remote.get(doc["id"])
    assert fediverse.count(doc["id"]) == 2


async def test_gone_before_ever_seen_raises_and_stores_nothing(remote, fediverse, sessions):
    url = fediverse.origin("mastodon.test") + "/users/deleted"
    fediverse.serve(url, {}, status=410)
    with pytest.raises(GoneError):
        await remote.get(url)
    assert await stored(sessions, url) == []


async def test_stale_copy_is_used_when_a_refresh_fails(remote, fediverse, clock):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "mastodon.test")
    first = await remote.get(doc["id"])
    clock.now += timedelta(days=2)
    fediverse.serve(doc["id"], {"error": "down"}, status=503)
    assert (await remote.get(doc["id"])).id == first.id
    with pytest.raises(FetchError):
        await remote.get(doc["id"], refresh=True)


async def test_unknown_actor_on_a_failing_server_raises(remote, fediverse):
    with pytest.raises(FetchError):
        await remote.get(fediverse.origin("mastodon.test") + "/users/nobody")


async def test_invalid_actor_is_refused_and_not_stored(remote, fediverse, sessions):
    doc = fediverse.serve_fixture("gnusocial/objects/group.json", "mastodon.test")
    with pytest.raises(InvalidActor, match="not owned by this actor"):
        await remote.get(doc["id"])
    assert await stored(sessions, doc["id"]) == []


async def test_a_note_is_not_an_actor(remote, fediverse):
    doc = fediverse.serve_fixture("mastodon/objects/note_1.json", "mastodon.test")
    with pytest.raises(InvalidActor, match="not an actor type"):
        await remote.get(doc["id"])


async def test_blocked_domains_are_never_fetched(sessions, fetcher, fediverse, clock):
    async with sessions() as session:
        await set_domain(session, "spam.test", "block", "spam")
        await session.commit()
    policy = FederationPolicy(sessions, local_domain="copnet.test")
    remote = RemoteActors(
        sessions, fetcher, Urls(LOCAL), local_domain="copnet.test", clock=clock, policy=policy
    )
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "spam.test")
    with pytest.raises(DomainBlocked):
        await remote.get(doc["id"])
    with pytest.raises(DomainBlocked):
        await remote.get_by_key_id(doc["publicKey"]["id"])
    with pytest.raises(DomainBlocked):
        await remote.software_for_url(doc["id"])
    assert fediverse.total() == 0


# --- local actors ---------------------------------------------------------------------------


async def test_local_urls_resolve_to_local_actors_without_network(remote, sessions, fediverse):
    async with sessions() as session:
        community = await create_community(session, "nursing", title="Nursing")
        person = await create_local_actor(session, "alex", "Person")
        instance = await ensure_instance_actor(session)
        await session.commit()
    assert (await remote.get(LOCAL + "/c/nursing")).id == community.actor.id
    assert (await remote.get(LOCAL + "/u/alex")).id == person.id
    assert (await remote.get(LOCAL + "/actor")).local_name == INSTANCE_ACTOR_NAME
    assert (await remote.get(LOCAL + "/actor")).id == instance.id
    assert (await remote.get_by_key_id(LOCAL + "/c/nursing#main-key")).id == community.actor.id
    for missing in ("/c/nobody", "/u/nursing", "/c/alex", "/c/nursing/outbox", "/", "/inbox"):
        with pytest.raises(LocalActorNotFound):
            await remote.get(LOCAL + missing)
    with pytest.raises(InvalidActor):
        await remote.get_by_key_id(LOCAL + "/c/nursing#other-key")
    assert fediverse.total() == 0


# --- keys -----------------------------------------------------------------------------------


async def test_key_id_finds_its_actor_then_the_cache(remote, fediverse):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "mastodon.test")
    actor = await remote.get_by_key_id(doc["publicKey"]["id"])
    assert actor.ap_id == doc["id"]
    assert (await remote.get_by_key_id(doc["publicKey"]["id"])).id == actor.id
    assert fediverse.count(doc["id"]) == 1
    with pytest.raises(InvalidActor, match="does not list the key"):
        await remote.get_by_key_id(doc["id"] + "#not-a-key")


async def test_a_separate_key_document_leads_to_its_owner(remote, fediverse):
    doc = fediverse.serve_fixture("mastodon/objects/person.json", "gts.test")
    key_id = doc["id"] + "/main-key"
    doc["publicKey"]["id"] = key_id
    fediverse.serve(doc["id"], doc)
    key_doc = {"id": key_id, "owner": doc["id"], "publicKeyPem": doc["publicKey"]["publicKeyPem"]}
    fediverse.serve(key_id, key_doc)
    actor = await remote.get_by_key_id(key_id)
    assert (actor.ap_id, actor.public_key_id) == (doc["id"], key_id)


async def test_a_key_document_cannot_name_an_owner_elsewhere(remote, fediverse):
    key_id = fediverse.origin("gts.test") + "/users/x/main-key"
    owner = fediverse.origin("mastodon.test") + "/users/mastodon"
    fediverse.serve(key_id, {"id": key_id, "owner": owner, "publicKeyPem": "x"})
    with pytest.raises(InvalidActor, match="owner"):
        await remote.get_by_key_id(key_id)
    assert fediverse.count(owner) == 0


# --- instances and the Announce form --------------------------------------------------------


async def instance_row(sessions, domain: str) -> Instance | None:
    async with sessions() as session:
        return await session.get(Instance, domain)


async def test_threadiverse_software_is_detected_and_cached(remote, fediverse, sessions, clock):
    fediverse.serve_nodeinfo("lemmy.test", "lemmy", "0.19.9")
    community = fediverse.origin("lemmy.test") + "/c/tenforward"
    assert await remote.audience_kind_for_url(community) == "threadiverse"
    row = await instance_row(sessions, f"lemmy.test:{fediverse.port}")
    assert (row.software, row.software_version, row.nodeinfo_fetched_at) == (
        "lemmy",
        "0.19.9",
        clock.now,
    )
    index = fediverse.origin("lemmy.test") + "/.well-known/nodeinfo"
    clock.now += timedelta(days=6)
    assert await remote.software_for_url(community) == "lemmy"
    assert fediverse.count(index) == 1
    clock.now += timedelta(days=1)
    fediverse.serve_nodeinfo("lemmy.test", "piefed", "1.0")
    assert await remote.software_for_url(community) == "piefed"
    assert fediverse.count(index) == 2


async def test_microblog_and_unknown_servers_get_the_plain_form(remote, fediverse, sessions, clock):
    fediverse.serve_nodeinfo("mastodon.test", "mastodon", "4.3.0")
    assert await remote.audience_kind_for_url(fediverse.origin("mastodon.test")) == "microblog"
    silent = fediverse.origin("wordpress.test") + "/author/x"
    assert await remote.software_for_url(silent) is None
    assert await remote.audience_kind_for_url(silent) == "microblog"
    row = await instance_row(sessions, f"wordpress.test:{fediverse.port}")
    assert (row.software, row.nodeinfo_fetched_at) == (None, clock.now)
    index = fediverse.origin("wordpress.test") + "/.well-known/nodeinfo"
    assert fediverse.count(index) == 1  # a missing NodeInfo is remembered too...
    clock.now += timedelta(hours=1)
    fediverse.serve_nodeinfo("wordpress.test", "wordpress")
    assert await remote.software_for_url(silent) == "wordpress"  # ...but retried sooner
    assert fediverse.count(index) == 2


async def test_known_software_survives_a_nodeinfo_outage(remote, fediverse, sessions, clock):
    fediverse.serve_nodeinfo("lemmy.test", "lemmy")
    url = fediverse.origin("lemmy.test")
    assert await remote.software_for_url(url) == "lemmy"
    clock.now += timedelta(days=8)
    fediverse.serve(url + "/.well-known/nodeinfo", {}, status=502)
    assert await remote.software_for_url(url) == "lemmy"
    row = await instance_row(sessions, f"lemmy.test:{fediverse.port}")
    assert (row.software, row.nodeinfo_fetched_at) == ("lemmy", clock.now)


async def test_concurrent_software_lookups_make_one_instance_row(remote, fediverse, sessions):
    fediverse.serve_nodeinfo("lemmy.test", "lemmy")
    index = fediverse.origin("lemmy.test") + "/.well-known/nodeinfo"
    fediverse.hold(index, until=4)
    kinds = await asyncio.gather(
        *(remote.audience_kind_for_url(fediverse.origin("lemmy.test")) for _ in range(4))
    )
    assert kinds == ["threadiverse"] * 4
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Instance)) == 1


@pytest.mark.parametrize("url", ["mailto:admin@lemmy.test", "/relative", "lemmy.test"])
async def test_software_lookup_needs_an_http_url(remote, url):
    with pytest.raises(ValueError, match="not an http"):
        await remote.software_for_url(url)


async def test_this_server_is_copnet_without_asking(remote, fediverse):
    assert await remote.software_for_url(LOCAL + "/c/nursing") == "copnet"
    assert await remote.audience_kind_for_url(LOCAL) == "threadiverse"
    assert fediverse.total() == 0
