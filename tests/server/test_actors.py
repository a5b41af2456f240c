"""CoP Group actors, the instance actor and their collections."""

from __future__ import annotations

import json

from federation.keys import load_private_key, load_public_key
from models.communities import CommunityModerator, get_community
from server.appkeys import SESSIONS
from tests.support.fixtures import load_fixture
from tests.support.instances import add_community

AS2 = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


async def get_as2(client, path, accept=AS2):
    response = await client.get(path, headers={"Accept": accept})
    assert response.status == 200, await response.text()
    assert response.content_type == AS2
    return json.loads(await response.text())


async def test_group_document_has_every_field_lemmy_and_mastodon_read(copnet):
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward *nurses* talk.")
    group = await get_as2(copnet, "/c/nursing")
    base = "https://copnet.test/c/nursing"
    assert group["type"] == "Group"
    assert group["id"] == base
    assert group["preferredUsername"] == "nursing"
    assert group["name"] == "Nursing Practice"
    assert group["summary"] == "<p>Ward <em>nurses</em> talk.</p>\n"
    assert group["source"] == {"content": "Ward *nurses* talk.", "mediaType": "text/markdown"}
    assert group["inbox"] == base + "/inbox"
    assert group["outbox"] == base + "/outbox"
    assert group["followers"] == base + "/followers"
    assert group["featured"] == base + "/featured"
    assert group["attributedTo"] == base + "/moderators"
    assert group["postingRestrictedToMods"] is False
    assert group["manuallyApprovesFollowers"] is False
    assert group["discoverable"] is True
    assert group["endpoints"] == {"sharedInbox": "https://copnet.test/inbox"}
    assert group["publicKey"]["id"] == base + "#main-key"
    assert group["publicKey"]["owner"] == base
    assert group["icon"]["url"] == base + "/icon.png"
    assert group["published"].endswith("Z")
    assert "https://www.w3.org/ns/activitystreams" in group["@context"]
    assert "https://w3id.org/security/v1" in group["@context"]


async def test_group_document_covers_the_lemmy_group_fixture(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    group = await get_as2(copnet, "/c/nursing")
    lemmy = load_fixture("lemmy/objects/group.json")
    # language, tags, banner image and the legacy description are optional extras in Lemmy.
    optional = {"language", "tag", "image", "description"}
    assert set(lemmy) - optional <= set(group)


async def test_public_key_matches_the_stored_private_key_which_is_never_served(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    raw = await (await copnet.get("/c/nursing", headers={"Accept": AS2})).text()
    assert "PRIVATE KEY" not in raw
    group = json.loads(raw)
    public = load_public_key(group["publicKey"]["publicKeyPem"])
    assert public.key_size == 2048
    async with copnet.app[SESSIONS]() as session:
        community = await get_community(session, "nursing")
    private = load_private_key(community.actor.private_key_pem)
    assert private.public_key().public_numbers() == public.public_numbers()


async def test_ld_json_profile_gets_the_same_document(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    assert await get_as2(copnet, "/c/nursing", LD) == await get_as2(copnet, "/c/nursing")


async def test_browsers_get_a_page_at_the_same_url(copnet):
    await add_community(copnet.app, "nursing", "Nursing Practice")
    response = await copnet.get("/c/nursing", headers={"Accept": "text/html"})
    assert response.status == 200
    assert response.content_type == "text/html"
    assert response.headers["Vary"] == "Accept"
    text = await response.text()
    assert "Nursing Practice" in text
    assert "@nursing@copnet.test" in text


async def test_bad_accept_header_is_a_clear_4xx(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    response = await copnet.get("/c/nursing", headers={"Accept": "image/png"})
    assert response.status == 406
    assert "activity+json" in (await response.json())["error"]
    response = await copnet.get("/c/nursing", headers={"Accept": "text/html;q=lots"})
    assert response.status == 400


async def test_instance_actor_is_an_application_with_a_key(copnet):
    actor = await get_as2(copnet, "/actor")
    assert actor["type"] == "Application"
    assert actor["id"] == "https://copnet.test/actor"
    assert actor["publicKey"]["owner"] == actor["id"]
    assert actor["inbox"] == "https://copnet.test/inbox"
    load_public_key(actor["publicKey"]["publicKeyPem"])
    page = await copnet.get("/actor", headers={"Accept": "text/html"}, allow_redirects=False)
    assert page.status == 302


async def test_instance_actor_serves_every_collection_gotosocial_and_mastodon_fetch(copnet):
    """GoToSocial fetches `featured` of every actor it refreshes and logs an error without one,
    then counts followers, following and outbox (superseriousbusiness/gotosocial
    internal/federation/dereferencing/account.go: dereferenceAccountFeatured and
    dereferenceAccountStats); Mastodon's ActivityPub::ProcessAccountService reads the same."""
    actor = await get_as2(copnet, "/actor")
    for part in ("featured", "followers", "following", "outbox"):
        assert actor[part] == f"https://copnet.test/actor/{part}"
        collection = await get_as2(copnet, f"/actor/{part}")
        assert collection["id"] == actor[part]
        assert collection["type"] == "OrderedCollection"
        assert collection["totalItems"] == 0
    missing = await copnet.get("/actor/likes", headers={"Accept": AS2})
    assert missing.status == 404
    assert "likes" in (await missing.json())["error"]


async def test_outbox_is_paged(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    outbox = await get_as2(copnet, "/c/nursing/outbox")
    assert outbox["type"] == "OrderedCollection"
    assert outbox["totalItems"] == 0
    assert outbox["first"] == "https://copnet.test/c/nursing/outbox?page=1"
    page = await get_as2(copnet, "/c/nursing/outbox?page=1")
    assert page["type"] == "OrderedCollectionPage"
    assert page["partOf"] == "https://copnet.test/c/nursing/outbox"
    assert page["orderedItems"] == []
    assert "next" not in page


async def test_bad_page_number_is_400(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    for value in ("0", "-1", "abc", "99999999999"):
        response = await copnet.get(f"/c/nursing/outbox?page={value}", headers={"Accept": AS2})
        assert response.status == 400, value


async def test_followers_featured_and_moderators_exist(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    followers = await get_as2(copnet, "/c/nursing/followers")
    assert followers["totalItems"] == 0
    featured = await get_as2(copnet, "/c/nursing/featured")
    assert featured["orderedItems"] == []
    moderators = await get_as2(copnet, "/c/nursing/moderators")
    assert moderators["orderedItems"] == []


async def test_moderators_collection_lists_moderator_ids(copnet):
    nursing = await add_community(copnet.app, "nursing", "Nursing")
    other = await add_community(copnet.app, "social_work", "Social Work")
    async with copnet.app[SESSIONS]() as session:
        session.add(CommunityModerator(community_id=nursing.actor_id, actor_id=other.actor_id))
        await session.commit()
    moderators = await get_as2(copnet, "/c/nursing/moderators")
    assert moderators["totalItems"] == 1
    assert moderators["orderedItems"] == ["https://copnet.test/c/social_work"]
    page = await get_as2(copnet, "/c/nursing/moderators?page=1")
    assert page["orderedItems"] == ["https://copnet.test/c/social_work"]


async def test_unknown_cop_is_404_with_json_reason_everywhere(copnet):
    for path in (
        "/c/ghost",
        "/c/ghost/outbox",
        "/c/ghost/followers",
        "/c/ghost/featured",
        "/c/ghost/moderators",
        "/c/ghost/icon.png",
    ):
        response = await copnet.get(path, headers={"Accept": AS2})
        assert response.status == 404, path
        assert "ghost" in (await response.json())["error"]


async def test_unknown_path_is_404_json(copnet):
    response = await copnet.get("/no/such/thing")
    assert response.status == 404
    assert (await response.json())["error"]


async def test_icon_is_a_png(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    response = await copnet.get("/c/nursing/icon.png")
    assert response.content_type == "image/png"
    assert (await response.read()).startswith(b"\x89PNG\r\n\x1a\n")


async def test_home_lists_the_cops(copnet):
    await add_community(copnet.app, "nursing", "Nursing Practice")
    text = await (await copnet.get("/")).text()
    assert "Nursing Practice" in text
    assert 'href="/c/nursing"' in text
