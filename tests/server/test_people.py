"""Members as ActivityPub `Person` actors: documents, profile pages, collections, WebFinger."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization

from federation.keys import load_private_key
from models.actors import Actor, get_local_actor
from models.deliveries import enqueue
from models.follows import upsert_follow
from server.appkeys import SESSIONS, WRITE_SESSIONS
from tests.server.test_auth import (
    HTML,
    fast_argon2,
    make_member,
    start_web,
)
from tests.support.instances import add_community

AS2 = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AS_TYPE = "https://www.w3.org/ns/activitystreams#type"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url):
    return await start_web(aiohttp_server, aiohttp_client, database_url)


async def get_json(web, path: str, accept: str = AS2) -> dict:
    response = await web.client.get(path, headers={"Accept": accept})
    assert response.status == 200, await response.text()
    assert response.content_type == AS2
    assert "Accept" in response.headers["Vary"]
    return json.loads(await response.text())


async def test_person_document_has_what_mastodon_and_lemmy_read(web):
    await make_member(web.app, "sam")
    person = await get_json(web, "/u/sam")
    base = "https://copnet.test/u/sam"
    assert person["@context"][:2] == [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
    ]
    assert person["id"] == base and person["url"] == base
    assert person["type"] == "Person"
    assert person["preferredUsername"] == "sam"
    assert person["name"] == "Sam"
    assert person["summary"] == ""
    assert person["source"] == {"content": "", "mediaType": "text/markdown"}
    assert person["inbox"] == base + "/inbox"
    assert person["outbox"] == base + "/outbox"
    assert person["followers"] == base + "/followers"
    assert person["following"] == base + "/following"
    assert person["endpoints"] == {"sharedInbox": "https://copnet.test/inbox"}
    assert person["icon"] == {"type": "Image", "mediaType": "image/png", "url": base + "/icon.png"}
    assert person["published"].endswith("Z")
    assert person["manuallyApprovesFollowers"] is False
    assert person["discoverable"] is True
    assert person["publicKey"]["id"] == base + "#main-key"
    assert person["publicKey"]["owner"] == base
    assert await get_json(web, "/u/sam", LD) == person


async def test_the_served_key_is_the_one_deliveries_are_signed_with(web):
    await make_member(web.app, "sam")
    person = await get_json(web, "/u/sam")
    async with web.app[SESSIONS]() as session:
        actor = await get_local_actor(session, "sam")
    served = person["publicKey"]["publicKeyPem"]
    derived = (
        load_private_key(actor.private_key_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert served.strip() == derived.strip()
    assert "PRIVATE" not in json.dumps(person)


async def test_webfinger_finds_a_member_as_a_person(web):
    await make_member(web.app, "sam")
    response = await web.client.get(
        "/.well-known/webfinger", params={"resource": "acct:sam@copnet.test"}
    )
    assert response.status == 200
    body = await response.json(content_type=None)
    assert body["subject"] == "acct:sam@copnet.test"
    self_link = next(link for link in body["links"] if link["rel"] == "self")
    assert self_link == {
        "rel": "self",
        "type": AS2,
        "href": "https://copnet.test/u/sam",
        "properties": {AS_TYPE: "Person"},
    }
    profile = next(link for link in body["links"] if "profile-page" in link["rel"])
    assert profile["href"] == "https://copnet.test/u/sam"
    by_url = await web.client.get(
        "/.well-known/webfinger", params={"resource": "https://copnet.test/u/sam"}
    )
    assert by_url.status == 200


async def test_profile_page_shows_the_member_and_their_communities(web):
    account = await make_member(web.app, "sam")
    await add_community(web.app, "nursing", "Nursing Practice")
    await add_community(web.app, "ethics", "Care Ethics")
    async with web.app[WRITE_SESSIONS]() as session:
        actor = await session.get(Actor, account.actor_id)
        actor.summary_html = "<p>Ward nurse, <em>nights</em>.</p>"
        remote = Actor(
            type="Group",
            ap_id="https://lemmy.example/c/dementia",
            username="dementia",
            domain="lemmy.example",
            display_name="Dementia care",
            url="https://lemmy.example/c/dementia",
            public_key_pem="-",
        )
        session.add(remote)
        await session.flush()
        for name, state in (("nursing", "accepted"), ("ethics", "pending")):
            group = await get_local_actor(session, name)
            await upsert_follow(
                session,
                followed_id=group.id,
                follower_id=actor.id,
                state=state,
                activity_ap_id=None,
            )
        await upsert_follow(
            session,
            followed_id=remote.id,
            follower_id=actor.id,
            state="accepted",
            activity_ap_id=None,
        )
        await session.commit()
    response = await web.client.get("/u/sam", headers={"Accept": HTML})
    assert response.status == 200
    assert response.content_type == "text/html"
    text = await response.text()
    assert "<h1" in text and "Sam" in text
    assert "@sam@copnet.test" in text
    assert "<em>nights</em>" in text
    assert '<a href="https://copnet.test/c/nursing">Nursing Practice</a>' in text
    assert '<a href="https://lemmy.example/c/dementia">Dementia care</a>' in text
    assert "@dementia@lemmy.example" in text
    assert "Care Ethics" not in text  # pending is not membership
    assert 'rel="alternate" type="application/activity+json"' in text
    assert "Edit your profile" not in text  # only on one's own page


async def test_ones_own_profile_links_to_the_editor(web):
    await web.signup("sam")
    text = await (await web.client.get("/u/sam", headers={"Accept": HTML})).text()
    assert 'href="/settings/profile"' in text


async def test_only_members_live_under_u(web):
    await add_community(web.app, "nursing", "Nursing")
    for path in ("/u/nursing", "/u/nobody", "/u/nursing/outbox", "/u/instance/followers"):
        response = await web.client.get(path, headers={"Accept": AS2})
        assert response.status == 404, path


async def test_outbox_lists_what_the_member_sent_newest_first(web):
    account = await make_member(web.app, "sam")
    async with web.app[WRITE_SESSIONS]() as session:
        for index in range(25):
            document = {"id": f"https://copnet.test/activities/{index}", "type": "Create"}
            await enqueue(
                session,
                actor_id=account.actor_id,
                ap_id=document["id"],
                type_="Create",
                document=document,
                inboxes=[],
                in_outbox=True,
            )
        await enqueue(
            session,
            actor_id=account.actor_id,
            ap_id="https://copnet.test/activities/hidden",
            type_="Update",
            document={"type": "Update"},
            inboxes=[],
        )
        await session.commit()
    outbox = await get_json(web, "/u/sam/outbox")
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 25
    assert outbox["first"] == "https://copnet.test/u/sam/outbox?page=1"
    first = await get_json(web, "/u/sam/outbox?page=1")
    assert first["orderedItems"][0]["id"] == "https://copnet.test/activities/24"
    assert len(first["orderedItems"]) == 20
    assert first["next"] == "https://copnet.test/u/sam/outbox?page=2"
    second = await get_json(web, "/u/sam/outbox?page=2")
    assert len(second["orderedItems"]) == 5 and "next" not in second
    bad = await web.client.get("/u/sam/outbox?page=0", headers={"Accept": AS2})
    assert bad.status == 400


async def test_followers_and_following_are_counts_only(web):
    account = await make_member(web.app, "sam")
    await add_community(web.app, "nursing", "Nursing")
    async with web.app[WRITE_SESSIONS]() as session:
        follower = Actor(
            type="Person",
            ap_id="https://social.example/users/kim",
            username="kim",
            domain="social.example",
            public_key_pem="-",
        )
        session.add(follower)
        await session.flush()
        await upsert_follow(
            session,
            followed_id=account.actor_id,
            follower_id=follower.id,
            state="accepted",
            activity_ap_id=None,
        )
        nursing = await get_local_actor(session, "nursing")
        await upsert_follow(
            session,
            followed_id=nursing.id,
            follower_id=account.actor_id,
            state="accepted",
            activity_ap_id=None,
        )
        await session.commit()
    followers = await get_json(web, "/u/sam/followers")
    assert followers["id"] == "https://copnet.test/u/sam/followers"
    assert (followers["totalItems"], followers["orderedItems"]) == (1, [])
    following = await get_json(web, "/u/sam/following")
    assert (following["totalItems"], following["orderedItems"]) == (1, [])


async def test_the_icon_is_a_png(web):
    await make_member(web.app, "sam")
    response = await web.client.get("/u/sam/icon.png")
    assert response.status == 200
    assert response.content_type == "image/png"
    assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")
