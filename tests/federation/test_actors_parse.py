"""parse_actor against the actors real servers serve, and against tampered copies."""

from __future__ import annotations

import copy

import pytest

from federation.actors import InvalidActor, RemoteActorInfo, parse_actor
from federation.keys import generate_rsa_keypair
from tests.support.fixtures import load_fixture

# fixture -> the fields that prove it parsed right (None means "absent", checked too).
ACCEPTED = {
    "mastodon/objects/person.json": {
        "type": "Person",
        "username": "mastodon",
        "domain": "masto.qa.urbanwildlife.biz",
        "display_name": "Mastodon",
        "inbox": "https://masto.qa.urbanwildlife.biz/users/mastodon/inbox",
        "shared_inbox": "https://masto.qa.urbanwildlife.biz/inbox",
        "followers": "https://masto.qa.urbanwildlife.biz/users/mastodon/followers",
        "url": "https://masto.qa.urbanwildlife.biz/@mastodon",
        "key_id": "https://masto.qa.urbanwildlife.biz/users/mastodon#main-key",
    },
    "lemmy/objects/person.json": {
        "type": "Person",
        "username": "picard",
        "display_name": "Jean-Luc Picard",
        "shared_inbox": "https://enterprise.lemmy.ml/inbox",
        "followers": None,
        "url": None,
        "icon_url": "https://enterprise.lemmy.ml/pictrs/image/ed9ej7.jpg",
    },
    "lemmy/objects/group.json": {
        "type": "Group",
        "username": "tenforward",
        "display_name": "Ten Forward",
        "followers": "https://enterprise.lemmy.ml/c/tenforward/followers",
        "key_id": "https://enterprise.lemmy.ml/c/tenforward#main-key",
    },
    "lemmy/objects/instance.json": {
        "type": "Application",
        "username": "enterprise.lemmy.ml",
        "ap_id": "https://enterprise.lemmy.ml/",
        "inbox": "https://enterprise.lemmy.ml/inbox",
        "shared_inbox": None,
        "key_id": "https://enterprise.lemmy.ml/#main-key",
    },
    "mbin/objects/instance.json": {
        "type": "Application",
        "username": "fedia.io",
        "inbox": "https://fedia.io/i/inbox",
        "key_id": "https://fedia.io/i/actor#main-key",
    },
    "pleroma/objects/person.json": {
        "username": "lanodan",
        "shared_inbox": "https://queer.hacktivis.me/inbox",
        "icon_url": "https://queer.hacktivis.me/media/d23cf9b0-5586-4592-aca5-9a52777a6042/avatar_HD.png",
    },
    "peertube/objects/person.json": {
        "username": "thelinuxexperiment",
        # PeerTube sends a list of avatar sizes; the first is taken, as Mastodon does.
        "icon_url": "https://tilvids.com/lazy-static/avatars/e74c2c6b-1f6b-4506-9d03-2cbba1635b20.jpg",
    },
    "peertube/objects/group.json": {
        "type": "Group",
        "username": "thelinuxexperiment_channel",
        "url": "https://tilvids.com/video-channels/thelinuxexperiment_channel",
    },
    "mobilizon/objects/person.json": {
        "username": "sanof44",
        "icon_url": None,
        "shared_inbox": "https://mobilizon.fr/inbox",
    },
    "mobilizon/objects/group.json": {
        "type": "Group",
        "username": "contribateliers",
        "url": "https://mobilizon.fr/@contribateliers",
    },
    "friendica/objects/person_1.json": {
        "username": "jakob",
        "shared_inbox": "https://soc.schuerz.at/inbox",
    },
    "friendica/objects/person_2.json": {"type": "Organization", "username": "informapirata"},
    "wordpress/objects/person.json": {
        "username": "matthias",
        "domain": "pfefferle.org",
        # Avatars may live on a CDN; only the profile page must be on the actor's host.
        "icon_url": "https://secure.gravatar.com/avatar/a2bdca7870e859658cece96c044b3be5?s=120&#038;d=mm&#038;r=g",
    },
    "wordpress/objects/group.json": {
        "type": "Group",
        "ap_id": "https://dbzer0.com/?author=0",
        "url": "https://dbzer0.com",
    },
    "gnusocial/objects/person.json": {
        "username": "diogo",
        "key_id": "https://instance.gnusocial.test/actor/42#public-key",
        "icon_url": None,
    },
    "smithereen/objects/person.json": {
        "username": "grishka",
        "shared_inbox": "https://friends.grishka.me/activitypub/sharedInbox",
        # The cropped avatar (icon.url), not the full picture in icon.image.
        "icon_url": "https://friends.grishka.me/i/ql_49PQcETAWgY_nC-Qj63H_Oa6FyOAEoWFkUSSkUvQ/"
        "c:573:572:nowe:338:362/q:93/"
        "bG9jYWw6Ly8vcy91cGxvYWRzL2F2YXRhcnMvNTYzODRhODEwODk5ZTRjMzI4YmY4YmQwM2Q2MWM3NmMud2VicA.jpg",
    },
    "nodebb/objects/person.json": {
        "username": "julian",
        "key_id": "https://bb.devnull.land/uid/1#key",
    },
    "nodebb/objects/group.json": {
        "type": "Group",
        "username": "general",
        "display_name": "General Discussion",
    },
    "discourse/objects/person.json": {
        "username": "angus",
        # Discourse puts sharedInbox at the top level, not under endpoints; Mastodon reads both.
        "shared_inbox": "https://socialhub.activitypub.rocks/ap/users/inbox",
    },
    "discourse/objects/group.json": {"type": "Group", "shared_inbox": None},
    "lotide/objects/person.json": {
        "username": "57H",
        # lotide's key id has a doubled slash; same origin, so it is accepted as is.
        "key_id": "https://narwhal.city//users/3#main-key",
    },
    "lotide/objects/group.json": {"type": "Group", "username": "Iotide", "shared_inbox": None},
}

REFUSED = {
    # The group's key belongs to actor/2, not to actor/21: accepting it would let one actor
    # sign as another.
    "gnusocial/objects/group.json": "publicKey is not owned by this actor",
}


def test_every_person_and_group_fixture_is_judged():
    from tests.support.fixtures import FIXTURES

    judged = set(ACCEPTED) | set(REFUSED)
    actors = {
        str(p.relative_to(FIXTURES))
        for p in FIXTURES.glob("*/objects/*.json")
        if p.stem.startswith(("person", "group", "instance"))
    }
    assert actors <= judged


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_real_actor_parses(name):
    document = load_fixture(name)
    info = parse_actor(document, fetched_from=document["id"])
    assert isinstance(info, RemoteActorInfo)
    assert info.ap_id == document["id"]
    assert info.inbox == document["inbox"]
    assert info.public_key_pem.strip().startswith("-----BEGIN")
    for field, expected in ACCEPTED[name].items():
        assert getattr(info, field) == expected, field


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_real_actor_is_refused_with_reason(name):
    document = load_fixture(name)
    with pytest.raises(InvalidActor) as caught:
        parse_actor(document, fetched_from=document["id"])
    assert caught.value.reason == REFUSED[name]


def test_summary_is_returned_raw_for_the_server_to_sanitise():
    document = load_fixture("lemmy/objects/group.json")
    info = parse_actor(document, fetched_from=document["id"])
    assert info.summary_html_raw == document["summary"]


# --- tampering, one thing at a time, on Mastodon's actor -------------------------------------

ID = "https://masto.qa.urbanwildlife.biz/users/mastodon"


@pytest.fixture
def actor() -> dict:
    return copy.deepcopy(load_fixture("mastodon/objects/person.json"))


def refused(document: dict, fetched_from: str = ID) -> str:
    with pytest.raises(InvalidActor) as caught:
        parse_actor(document, fetched_from=fetched_from)
    return caught.value.reason


@pytest.mark.parametrize("field", ["id", "inbox", "publicKey", "preferredUsername", "type"])
def test_missing_required_field_is_refused(actor, field):
    del actor[field]
    assert refused(actor)


@pytest.mark.parametrize("type_", ["Note", "Tombstone", "Collection", None, 3])
def test_non_actor_types_are_refused(actor, type_):
    actor["type"] = type_
    assert "not an actor type" in refused(actor)


def test_type_list_with_an_actor_type_is_accepted(actor):
    actor["type"] = ["Person", "vcard:Individual"]
    assert parse_actor(actor, fetched_from=ID).type == "Person"


@pytest.mark.parametrize("scheme", ["ftp", "file", "javascript"])
def test_non_http_id_is_refused(actor, scheme):
    actor["id"] = ID.replace("https", scheme, 1)
    assert "http(s)" in refused(actor, fetched_from=actor["id"])


def test_id_from_another_origin_than_fetched_is_refused(actor):
    assert "fetched from" in refused(actor, fetched_from="https://evil.example/users/mastodon")


def test_id_on_another_port_than_fetched_is_refused(actor):
    assert "fetched from" in refused(actor, fetched_from=ID.replace(".biz/", ".biz:8443/"))


def test_inbox_on_another_origin_is_refused(actor):
    actor["inbox"] = "https://victim.example/inbox"
    assert refused(actor) == "inbox is on another origin than the actor"


def test_non_http_inbox_is_refused(actor):
    actor["inbox"] = "mailto:someone@example.org"
    assert "inbox" in refused(actor)


def test_key_id_on_another_origin_is_refused(actor):
    actor["publicKey"]["id"] = "https://evil.example/key"
    assert refused(actor) == "publicKey id is on another origin than the actor"


def test_key_owned_by_another_actor_is_refused(actor):
    actor["publicKey"]["owner"] = "https://masto.qa.urbanwildlife.biz/users/someone_else"
    assert refused(actor) == "publicKey is not owned by this actor"


def test_key_given_only_by_reference_is_refused(actor):
    actor["publicKey"] = actor["publicKey"]["id"]
    assert "reference" in refused(actor)


def test_broken_pem_is_refused(actor):
    actor["publicKey"]["publicKeyPem"] = (
        "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----"
    )
    assert "publicKeyPem" in refused(actor)


def test_key_list_picks_the_key_owned_by_the_actor(actor):
    _, other_pem = generate_rsa_keypair()
    own = actor["publicKey"]
    foreign = {"id": ID + "#other", "owner": "https://masto.qa.urbanwildlife.biz/users/x"}
    foreign["publicKeyPem"] = other_pem
    actor["publicKey"] = [foreign, own]
    info = parse_actor(actor, fetched_from=ID)
    assert (info.key_id, info.public_key_pem) == (own["id"], own["publicKeyPem"])


def test_key_without_owner_in_the_actors_document_is_accepted(actor):
    del actor["publicKey"]["owner"]
    assert parse_actor(actor, fetched_from=ID).key_id == ID + "#main-key"


def test_shared_inbox_on_another_host_is_dropped_not_fatal(actor):
    actor["endpoints"]["sharedInbox"] = "https://relay.example/inbox"
    info = parse_actor(actor, fetched_from=ID)
    assert info.shared_inbox is None
    assert info.inbox == actor["inbox"]


@pytest.mark.parametrize("field", ["outbox", "followers"])
def test_collections_on_another_origin_are_dropped(actor, field):
    actor[field] = "https://elsewhere.example/collection"
    assert getattr(parse_actor(actor, fetched_from=ID), field) is None


def test_profile_url_on_another_host_is_dropped(actor):
    actor["url"] = "https://phishing.example/@mastodon"
    assert parse_actor(actor, fetched_from=ID).url is None


HOST = "https://masto.qa.urbanwildlife.biz"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (HOST + "/@m", HOST + "/@m"),
        ({"type": "Link", "href": HOST + "/@m"}, HOST + "/@m"),
        (
            [
                {"type": "Link", "mediaType": "application/activity+json", "href": ID},
                {"type": "Link", "mediaType": "text/html", "href": HOST + "/@page"},
            ],
            HOST + "/@page",
        ),
        ([HOST + "/a", HOST + "/b"], HOST + "/a"),
        ("javascript:alert(1)", None),
        (42, None),
    ],
)
def test_url_as_string_link_or_list(actor, url, expected):
    actor["url"] = url
    assert parse_actor(actor, fetched_from=ID).url == expected


@pytest.mark.parametrize(
    ("icon", "expected"),
    [
        ("https://cdn.example/a.png", "https://cdn.example/a.png"),
        ({"type": "Image", "url": "https://cdn.example/b.png"}, "https://cdn.example/b.png"),
        (
            {"type": "Image", "url": {"href": "https://cdn.example/c.png"}},
            "https://cdn.example/c.png",
        ),
        (
            [{"url": "data:image/png;base64,AAAA"}, {"url": "https://cdn.example/d.png"}],
            "https://cdn.example/d.png",
        ),
        ({"type": "Image", "url": "javascript:alert(1)"}, None),
        (None, None),
    ],
)
def test_icon_as_object_list_or_string(actor, icon, expected):
    actor["icon"] = icon
    assert parse_actor(actor, fetched_from=ID).icon_url == expected


def test_overlong_urls_are_refused_or_dropped(actor):
    long_path = "/x" * 1100
    actor["url"] = "https://masto.qa.urbanwildlife.biz" + long_path
    assert parse_actor(actor, fetched_from=ID).url is None
    actor["inbox"] = "https://masto.qa.urbanwildlife.biz" + long_path
    assert "inbox" in refused(actor)


def test_credentials_in_urls_are_refused(actor):
    actor["inbox"] = "https://user:pw@masto.qa.urbanwildlife.biz/inbox"
    assert "inbox" in refused(actor)


def test_domain_keeps_a_non_default_port():
    document = load_fixture("mastodon/objects/person.json")
    rehosted = {
        k: (
            v.replace("masto.qa.urbanwildlife.biz", "Remote.Test:8443") if isinstance(v, str) else v
        )
        for k, v in document.items()
    }
    rehosted["publicKey"] = {
        k: v.replace("masto.qa.urbanwildlife.biz", "remote.test:8443")
        for k, v in document["publicKey"].items()
    }
    info = parse_actor(rehosted, fetched_from="https://remote.test:8443/users/mastodon")
    assert info.domain == "remote.test:8443"


def test_non_object_document_is_refused():
    with pytest.raises(InvalidActor):
        parse_actor(["not", "an", "object"], fetched_from=ID)  # type: ignore[arg-type]
