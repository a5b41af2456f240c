"""Private CoPs: joining is a request a moderator approves (Accept) or declines (Reject), posts
go to followers only, and threads are readable only by members and by servers that have an
accepted follower (on a signed fetch). Mastodon reads `manuallyApprovesFollowers` and answers
Accept/Reject of its Follow (app/lib/activitypub/activity/accept.rb, reject.rb); a post
addressed to the followers collection without Public is followers-only there."""

from __future__ import annotations

from federation.keys import load_private_key
from federation.signatures import sign_request
from tests.moderation.support import AS2, PUBLIC, make_moderator, member


async def _private_cop(net):
    cop = await net.community("secret", "Secret")
    mona = await member(net, "mona", joins="secret")
    await make_moderator(net, "secret", "mona")
    response = await mona.post("/c/secret/moderation/private", private="on")
    assert response.status == 303
    return cop, mona


async def _signed_get(net, fake, actor, url: str):
    headers = sign_request(
        "GET",
        url,
        {"Accept": AS2["Accept"]},
        None,
        key_id=actor.key_id,
        private_key=load_private_key(actor.private_pem),
    )
    return await net.client.get(url, headers=headers)


async def test_remote_follows_wait_for_a_moderator_who_accepts_or_rejects(net, fake):
    cop, mona = await _private_cop(net)
    group = await (await net.client.get(cop, headers=AS2)).json(content_type=None)
    assert group["manuallyApprovesFollowers"] is True
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    bob = fake.actor("gotosocial.test", "bob", software="gotosocial", key_index=1)
    follows = {}
    for actor in (alice, bob):
        follows[actor.id] = {
            "id": fake.new_id(actor),
            "type": "Follow",
            "actor": actor.id,
            "object": cop,
        }
        await fake.send(actor, f"{cop}/inbox", follows[actor.id], session=net.client)
    await net.settle()
    assert fake.deliveries("Accept") == []
    status, page = await mona.page("/c/secret/moderation")
    assert status == 200 and "Requests to join" in page and "alice" in page
    tom = await member(net, "tom", joins="secret")
    refused = await tom.post("/c/secret/moderation/requests", person=alice.id, decision="approve")
    assert refused.status == 403

    approve = await mona.post("/c/secret/moderation/requests", person=alice.id, decision="approve")
    decline = await mona.post("/c/secret/moderation/requests", person=bob.id, decision="decline")
    assert approve.status == decline.status == 303
    await net.settle()
    (accept,) = fake.deliveries("Accept")
    assert accept.host == "mastodon.test"
    assert accept.activity["object"]["id"] == follows[alice.id]["id"]
    (reject,) = fake.deliveries("Reject")
    assert reject.host == "gotosocial.test"
    assert reject.activity["object"]["id"] == follows[bob.id]["id"]
    followers = await (await net.client.get(f"{cop}/followers", headers=AS2)).json(
        content_type=None
    )
    assert followers["totalItems"] == 3  # mona, tom and alice; not bob


async def test_members_join_by_request_and_posts_go_to_followers_only(net, fake):
    cop, mona = await _private_cop(net)
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    await fake.send(alice, f"{cop}/inbox", follow, session=net.client)
    await net.settle()
    await mona.post("/c/secret/moderation/requests", person=alice.id, decision="approve")
    tom = await member(net, "tom")
    assert (await tom.post("/c/secret/join")).status == 303
    assert "waiting for a moderator" in (await tom.page("/c/secret"))[1]
    assert (await tom.post("/c/secret/threads", title="Hi", body="x")).status == 403
    await mona.post("/c/secret/moderation/requests", person="tom", decision="approve")
    started = await tom.post("/c/secret/threads", title="Members only", body="private words")
    assert started.status == 303
    await net.settle()
    (announce,) = fake.deliveries("Announce", host="mastodon.test")
    assert announce.activity["to"] == [f"{cop}/followers"]
    assert PUBLIC not in announce.activity["to"] + announce.activity.get("cc", [])
    thread = started.headers["Location"]
    post_url = f"{net.url}{thread.replace('/t/', '/p/')}"
    note = await (await _signed_get(net, fake, alice, post_url)).json(content_type=None)
    assert note["to"] == [f"{cop}/followers"] and PUBLIC not in note["cc"]


async def test_only_members_and_servers_with_an_accepted_follower_can_read(net, fake):
    cop, mona = await _private_cop(net)
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    eve = fake.actor("pleroma.test", "eve", software="pleroma", key_index=1)
    follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    await fake.send(alice, f"{cop}/inbox", follow, session=net.client)
    await net.settle()
    await mona.post("/c/secret/moderation/requests", person=alice.id, decision="approve")
    started = await mona.post("/c/secret/threads", title="Members only", body="private words")
    thread = f"{net.url}{started.headers['Location']}"
    post_url = thread.replace("/t/", "/p/")
    assert (await mona.page(started.headers["Location"]))[0] == 200
    for url in (thread, f"{thread}/context", post_url):
        assert (await net.client.get(url, headers=AS2)).status == 404, url
        assert (await _signed_get(net, fake, eve, url)).status == 404, url
        assert (await _signed_get(net, fake, alice, url)).status == 200, url
    stranger = await member(net, "sam")
    assert (await stranger.page(started.headers["Location"]))[0] == 404
    status, page = await stranger.page("/c/secret")
    assert status == 200 and "Secret" in page and "Members only" not in page


async def test_a_private_cops_outbox_documents_and_search_results_are_for_members(net, fake):
    cop, mona = await _private_cop(net)
    await mona.post("/c/secret/threads", title="Members only", body="confidential handover")
    stranger = await member(net, "sam")
    assert (await net.client.get(f"{cop}/outbox", headers=AS2)).status == 404
    assert (await stranger.page("/c/secret/documents"))[0] == 404
    assert (await mona.page("/c/secret/documents"))[0] == 200
    assert "Members only" not in (await stranger.page("/search?q=confidential"))[1]
    assert "Members only" in (await mona.page("/search?q=confidential"))[1]
    assert (await stranger.page("/c/secret/search?q=confidential"))[0] == 404


async def test_the_public_log_does_not_show_a_private_cops_thread_titles(net, fake):
    _cop, mona = await _private_cop(net)
    started = await mona.post("/c/secret/threads", title="Confidential case", body="x")
    root = started.headers["Location"].rsplit("/", 1)[1]
    await mona.post(f"/t/{root}/moderate", post=root, action="lock", reason="closed")
    for path in ("/modlog", "/c/secret/modlog"):
        page = await (
            await net.client.get(f"{net.url}{path}", headers={"Accept": "text/html"})
        ).text()
        assert "closed" in page and "Confidential case" not in page
    assert "Confidential case" in (await mona.page("/c/secret/modlog"))[1]
