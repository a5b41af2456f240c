"""WebFinger, host-meta and NodeInfo as other fediverse servers call them."""

from __future__ import annotations

import re

from tests.support.instances import add_community

AS_TYPE = "https://www.w3.org/ns/activitystreams#type"


async def test_webfinger_finds_a_cop_by_acct(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    response = await copnet.get(
        "/.well-known/webfinger", params={"resource": "acct:nursing@copnet.test"}
    )
    assert response.status == 200
    assert response.content_type == "application/jrd+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = await response.json(content_type=None)
    assert body["subject"] == "acct:nursing@copnet.test"
    self_link = next(link for link in body["links"] if link["rel"] == "self")
    assert self_link == {
        "rel": "self",
        "type": "application/activity+json",
        "href": "https://copnet.test/c/nursing",
        "properties": {AS_TYPE: "Group"},
    }
    profile = next(link for link in body["links"] if "profile-page" in link["rel"])
    assert profile["href"] == "https://copnet.test/c/nursing"


async def test_webfinger_accepts_a_leading_at_and_upper_case_host(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    response = await copnet.get(
        "/.well-known/webfinger", params={"resource": "acct:@nursing@COPNET.test"}
    )
    assert response.status == 200


async def test_webfinger_finds_a_cop_by_its_url(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    response = await copnet.get(
        "/.well-known/webfinger", params={"resource": "https://copnet.test/c/nursing"}
    )
    body = await response.json(content_type=None)
    assert body["aliases"] == ["https://copnet.test/c/nursing"]


async def test_webfinger_site_root_is_the_instance_actor_fep_d556(copnet):
    for resource in (
        "https://copnet.test/",
        "acct:instance@copnet.test",
        "acct:copnet.test@copnet.test",
    ):
        response = await copnet.get("/.well-known/webfinger", params={"resource": resource})
        assert response.status == 200, resource
        body = await response.json(content_type=None)
        self_link = next(link for link in body["links"] if link["rel"] == "self")
        assert self_link["href"] == "https://copnet.test/actor"
        assert self_link["properties"][AS_TYPE] == "Application"


async def test_webfinger_rel_filter(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    response = await copnet.get(
        "/.well-known/webfinger", params={"resource": "acct:nursing@copnet.test", "rel": "self"}
    )
    body = await response.json(content_type=None)
    assert [link["rel"] for link in body["links"]] == ["self"]


async def test_webfinger_unknown_name_is_404_with_reason(copnet):
    response = await copnet.get(
        "/.well-known/webfinger", params={"resource": "acct:nobody@copnet.test"}
    )
    assert response.status == 404
    assert "nobody" in (await response.json())["error"]


async def test_webfinger_other_host_is_404(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    response = await copnet.get(
        "/.well-known/webfinger", params={"resource": "acct:nursing@elsewhere.example"}
    )
    assert response.status == 404
    assert "is not this server" in (await response.json())["error"]


async def test_webfinger_malformed_resources_are_400(copnet):
    for params in (
        {},
        {"resource": "acct:nohost"},
        {"resource": "mailto:a@b"},
        {"resource": "acct:@x@"},
    ):
        response = await copnet.get("/.well-known/webfinger", params=params)
        assert response.status == 400, params
        assert (await response.json())["error"]


async def test_host_meta_points_at_webfinger(copnet):
    response = await copnet.get("/.well-known/host-meta")
    assert response.content_type == "application/xrd+xml"
    text = await response.text()
    assert 'template="https://copnet.test/.well-known/webfinger?resource={uri}"' in text
    json_response = await copnet.get("/.well-known/host-meta.json")
    body = await json_response.json(content_type=None)
    assert body["links"][0]["template"].endswith("/.well-known/webfinger?resource={uri}")


async def test_nodeinfo_index_links_both_schemas_and_the_instance_actor(copnet):
    body = await (await copnet.get("/.well-known/nodeinfo")).json()
    rels = {link["rel"]: link["href"] for link in body["links"]}
    assert (
        rels["http://nodeinfo.diaspora.software/ns/schema/2.1"]
        == "https://copnet.test/nodeinfo/2.1"
    )
    assert (
        rels["http://nodeinfo.diaspora.software/ns/schema/2.0"]
        == "https://copnet.test/nodeinfo/2.0"
    )
    assert rels["https://www.w3.org/ns/activitystreams#Application"] == "https://copnet.test/actor"


async def test_nodeinfo_reports_real_counts(copnet):
    await add_community(copnet.app, "nursing", "Nursing")
    await add_community(copnet.app, "social_work", "Social Work")
    for version in ("2.0", "2.1"):
        response = await copnet.get(f"/nodeinfo/{version}")
        assert f"schema/{version}#" in response.headers["Content-Type"]
        body = await response.json(content_type=None)
        assert body["version"] == version
        assert re.fullmatch(r"[a-z0-9-]+", body["software"]["name"])
        assert body["protocols"] == ["activitypub"]
        assert set(body["services"]) == {"inbound", "outbound"}
        assert isinstance(body["openRegistrations"], bool)
        assert body["usage"]["users"]["total"] == 0
        assert body["metadata"]["communities"] == 2
        assert ("homepage" in body["software"]) is (version == "2.1")


async def test_unknown_nodeinfo_version_is_404(copnet):
    response = await copnet.get("/nodeinfo/9.9")
    assert response.status == 404
    assert "9.9" in (await response.json())["error"]
