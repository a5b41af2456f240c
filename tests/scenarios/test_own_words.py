"""Stories: members edit and delete their posts, and their replies reach the people they answer.

Shapes checked against the other software's source:
- Mastodon `app/lib/activitypub/parser/status_parser.rb` keeps `name` apart from `summary`
  (its `spoiler_text`), and `ActivityPub::Activity::Create` renders Article/Page as title + link
  only; GoToSocial `internal/typeutils/astointernal.go` sets the content warning from `summary`,
  "fall back to Name". So microblog servers get a Note without `name`, the title in `content`.
- Mastodon `ActivityPub::Activity::Update`/`::Delete` only apply an activity by the status's
  author; Mastodon and GoToSocial notify on a `Mention` in `tag` of a post reaching the inbox.
- Mastodon `ActivityPub::FetchRepliesService` reads `replies.first.items`.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import account_queries as accounts
from models.actors import Actor
from models.communities import get_community
from models.post_revisions import PostRevision
from models.posts import Post
from models.search import search
from server.appkeys import SESSIONS, URLS, WRITE_SESSIONS
from server.services import passwords
from server.services.membership import join
from tests.server.test_auth import PASSWORD, fast_argon2

AS2 = {"Accept": "application/activity+json"}
HTML = {"Accept": "text/html"}
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


class Browser:
    """A member signed in to the running copnet, with their own cookies."""

    def __init__(self, network, client):
        self.network, self.client, self.token = network, client, ""

    async def get(self, path: str):
        return await self.client.get(self.network.url + path, headers=HTML, allow_redirects=False)

    async def post(self, path: str, **fields):
        data = {"csrf_token": self.token, **fields}
        return await self.client.post(self.network.url + path, data=data, allow_redirects=False)


async def member(network, name: str, cop: str = "nursing") -> Browser:
    """A member of the CoP, signed in through the login form in a browser of their own."""
    import aiohttp

    async with network.app[WRITE_SESSIONS]() as session:
        account = await accounts.create_account(
            session, name, passwords.hash_password(PASSWORD), display_name=name.title()
        )
        community = await get_community(session, cop)
        actor = await session.get(Actor, account.actor_id)
        await join(session, network.app[URLS], actor, community.actor)
        await session.commit()
    client = aiohttp.ClientSession(connector=network.client.connector, connector_owner=False)
    browser = Browser(network, client)
    login = await (await browser.get("/login")).text()
    browser.token = TOKEN.search(login)[1]
    await browser.post("/login", login=name, password=PASSWORD)
    home = await (await browser.get("/")).text()
    browser.token = TOKEN.search(home)[1]
    return browser


async def remote_thread(network, fake, cop: str, author, text="Pressure ulcers at home?"):
    """A thread started by a remote author mentioning the CoP; returns the Note id."""
    note_id = fake.new_id(author, "statuses")
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": author.id,
        "to": [PUBLIC],
        "cc": [cop],
        "content": f"<p>{text}</p>",
        "tag": [{"type": "Mention", "href": cop}],
    }
    create = {"id": note_id + "/activity", "type": "Create", "actor": author.id, "object": note}
    assert (
        await fake.send(author, f"{network.url}/inbox", create, session=network.client)
    ).status == 202
    await network.settle()
    return note_id


async def archived(network, ap_id: str) -> Post:
    async with network.app[SESSIONS]() as session:
        return await session.scalar(select(Post).where(Post.ap_id == ap_id))


async def newest_local_post(network) -> Post:
    async with network.app[SESSIONS]() as session:
        return await session.scalar(
            select(Post).where(Post.ap_id.is_(None)).order_by(Post.id.desc()).limit(1)
        )


async def test_web_reply_to_a_mastodon_post_reaches_its_author_then_edit_and_delete_do(
    network, fake
):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    note_id = await remote_thread(network, fake, cop, alice)
    parent = await archived(network, note_id)
    nadia = await member(network, "nadia")
    try:
        response = await nadia.post(
            f"/t/{parent.id}/reply", parent=str(parent.id), body="Try a *turning* chart."
        )
        assert response.status == 303
        await network.settle()
        (create,) = fake.deliveries("Create", host="mastodon.test")
        reply = create.activity["object"]
        assert create.activity["actor"] == f"{network.url}/u/nadia"
        assert reply["inReplyTo"] == note_id
        assert alice.id in reply["cc"] and alice.id in create.activity["cc"]
        mention = next(t for t in reply["tag"] if t.get("href") == alice.id)
        assert (
            mention["type"] == "Mention"
            and mention["name"] == f"@alice@{fake.base(alice.host).removeprefix('http://')}"
        )
        # Visible in the text, as Mastodon writes mentions.
        assert (
            f'href="{alice.id}"' in reply["content"] and "@<span>alice</span>" in reply["content"]
        )
        assert reply["contentMap"] == {"en": reply["content"]}
        assert "name" not in reply
        # The parent's replies collection (ours is remote, so check the reply's own shape).
        assert reply["replies"]["type"] == "Collection"
        assert reply["replies"]["first"]["type"] == "CollectionPage"

        post = await newest_local_post(network)
        # Edit: the earlier wording is kept, "edited" shows, Update goes to the parent's author.
        page = await (await nadia.get(f"/p/{post.id}/edit")).text()
        assert "Try a *turning* chart." in page
        response = await nadia.post(f"/p/{post.id}/edit", body="Try a two-hourly turning chart.")
        assert response.status == 303
        await network.settle()
        (update,) = fake.deliveries("Update", host="mastodon.test")
        assert update.activity["actor"] == f"{network.url}/u/nadia"
        assert "two-hourly" in update.activity["object"]["content"]
        assert update.activity["object"]["updated"]
        assert alice.id in update.activity["cc"]
        async with network.app[SESSIONS]() as session:
            (revision,) = await session.scalars(select(PostRevision))
        assert revision.source == "Try a *turning* chart."
        thread = await (await nadia.get(f"/t/{parent.id}")).text()
        assert "edited" in thread and f"/p/{post.id}/history" in thread
        history = await (await nadia.get(f"/p/{post.id}/history")).text()
        assert "<em>turning</em>" in history

        # Delete asks first; then Delete goes out, the id answers 410, search forgets.
        confirm = await (await nadia.get(f"/p/{post.id}/delete")).text()
        assert "Yes, delete it" in confirm
        assert (await nadia.post(f"/p/{post.id}/delete")).status == 303  # no confirm: asks again
        async with network.app[SESSIONS]() as session:
            assert (await session.get(Post, post.id)).deleted_at is None
        response = await nadia.post(f"/p/{post.id}/delete", confirm="yes")
        assert response.status == 303
        await network.settle()
        (delete,) = fake.deliveries("Delete", host="mastodon.test")
        assert delete.activity["actor"] == f"{network.url}/u/nadia"
        assert delete.activity["object"]["id"] == f"{network.url}/p/{post.id}"
        async with network.client.get(f"{network.url}/p/{post.id}", headers=AS2) as answer:
            assert answer.status == 410
            assert (await answer.json(content_type=None))["type"] == "Tombstone"
        async with network.app[SESSIONS]() as session:
            found = await search(session, "hourly")
            assert list(await session.scalars(select(PostRevision))) == []
        assert found.total == 0
        thread = await (await nadia.get(f"/t/{parent.id}")).text()
        assert "This post was deleted." in thread and "two-hourly" not in thread
        # A deleted post cannot be edited back.
        assert (await nadia.post(f"/p/{post.id}/edit", body="back")).status == 403
        assert (await nadia.get(f"/p/{post.id}/edit")).status == 403
    finally:
        await nadia.client.close()


async def test_nobody_edits_or_deletes_someone_elses_post(network, fake):
    await network.community("nursing", "Nursing")
    nadia = await member(network, "nadia")
    omar = await member(network, "omar")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    try:
        await nadia.post("/c/nursing/threads", title="Handover", body="Names stay off the board.")
        post = await newest_local_post(network)
        for path in (f"/p/{post.id}/edit", f"/p/{post.id}/delete"):
            assert (await omar.get(path)).status == 403
        assert (await omar.post(f"/p/{post.id}/edit", title="Mine", body="now")).status == 403
        assert (await omar.post(f"/p/{post.id}/delete", confirm="yes")).status == 403
        assert (await omar.get(f"/p/{post.id}/history")).status == 403
        thread = await (await omar.get(f"/t/{post.id}")).text()
        assert f"/p/{post.id}/edit" not in thread
        # A remote actor's Update or Delete of it is refused at the inbox.
        note_url = f"{network.url}/p/{post.id}"
        forged = {"id": note_url, "type": "Note", "attributedTo": alice.id, "content": "pwned"}
        for activity in (
            {"id": fake.new_id(alice), "type": "Update", "actor": alice.id, "object": forged},
            {"id": fake.new_id(alice), "type": "Delete", "actor": alice.id, "object": note_url},
        ):
            answer = await fake.send(
                alice, f"{network.url}/inbox", activity, session=network.client
            )
            assert answer.status == 403
        await network.settle()
        async with network.app[SESSIONS]() as session:
            kept = await session.get(Post, post.id)
        assert kept.title == "Handover" and kept.deleted_at is None and kept.updated is None
        assert "Names stay off the board." in kept.content_html
    finally:
        await nadia.client.close()
        await omar.client.close()


async def test_mentions_are_resolved_linked_and_delivered(network, fake):
    await network.community("nursing", "Nursing")
    bob = fake.actor("lemmy.test", "bob", software="lemmy", key_index=1)
    fake.serve(
        f"{fake.base('lemmy.test')}/.well-known/webfinger",
        {
            "subject": f"acct:bob@{bob.host}",
            "links": [{"rel": "self", "type": "application/activity+json", "href": bob.id}],
        },
    )
    nadia = await member(network, "nadia")
    handle = f"@bob@{fake.base('lemmy.test').removeprefix('http://')}"
    try:
        response = await nadia.post(
            "/c/nursing/threads",
            title="Skin checks",
            body=f"{handle} what does your ward do? @nobody@nowhere.invalid",
        )
        assert response.status == 303
        await network.settle()
        (create,) = fake.deliveries("Create", host="lemmy.test")
        note = create.activity["object"]
        assert bob.id in note["cc"]
        assert any(t["type"] == "Mention" and t["href"] == bob.id for t in note["tag"])
        assert f'href="{bob.id}"' in note["content"]
        assert "@nobody@nowhere.invalid" in note["content"]  # unknown: stays plain text
        assert note["name"] == "Skin checks"  # Lemmy gets the title
    finally:
        await nadia.client.close()


async def test_microblog_servers_get_no_name_and_replies_are_walkable(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    follow = {
        "id": fake.new_id(alice),
        "type": "Follow",
        "actor": alice.id,
        "object": f"{network.url}/u/nadia",
    }
    nadia = await member(network, "nadia")
    try:
        await fake.send(alice, f"{network.url}/u/nadia/inbox", follow, session=network.client)
        await network.settle()
        await nadia.post("/c/nursing/threads", title="Night shifts", body="How do you rest?")
        await network.settle()
        (create,) = fake.deliveries("Create", host="mastodon.test")
        note = create.activity["object"]
        assert "name" not in note and "summary" not in note
        assert note["content"].startswith("<p><strong>Night shifts</strong></p>")
        top = await newest_local_post(network)
        await nadia.post(f"/t/{top.id}/reply", parent=str(top.id), body="Blackout blinds.")
        reply = await newest_local_post(network)
        async with network.client.get(f"{network.url}/p/{top.id}", headers=AS2) as answer:
            served = await answer.json(content_type=None)
        replies = served["replies"]
        assert replies["id"] == f"{network.url}/p/{top.id}/replies"
        assert replies["type"] == "Collection" and replies["totalItems"] == 1
        assert replies["first"]["items"] == [f"{network.url}/p/{reply.id}"]
        async with network.client.get(replies["id"], headers=AS2) as answer:
            collection = await answer.json(content_type=None)
        assert collection["first"]["items"] == [f"{network.url}/p/{reply.id}"]
        async with network.client.get(replies["id"] + "?page=1", headers=AS2) as answer:
            page = await answer.json(content_type=None)
        assert page["type"] == "CollectionPage" and page["partOf"] == replies["id"]
        # Nadia answering herself addresses nobody else.
        async with network.client.get(f"{network.url}/p/{reply.id}", headers=AS2) as answer:
            served_reply = await answer.json(content_type=None)
        assert served_reply["cc"] == [cop, cop + "/followers"]
    finally:
        await nadia.client.close()


async def test_moderators_choose_whether_replies_are_boosted_to_microblogs(network, fake):
    from models.communities import CommunityModerator

    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    await fake.send(
        alice,
        f"{cop}/inbox",
        {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop},
        session=network.client,
    )
    nadia = await member(network, "nadia")
    omar = await member(network, "omar")
    try:
        async with network.app[WRITE_SESSIONS].begin() as session:
            community = await get_community(session, "nursing")
            nadia_row = await accounts.member_by_name(session, "nadia")
            session.add(
                CommunityModerator(
                    community_id=community.actor_id, actor_id=nadia_row.account.actor_id
                )
            )
        assert (await omar.get("/c/nursing/settings")).status == 403
        assert (
            await omar.post("/c/nursing/settings", announce_replies="yes", language="en")
        ).status == 403
        assert "Community settings" in await (await nadia.get("/c/nursing")).text()
        assert (await nadia.post("/c/nursing/settings", language="not a tag!")).status == 400
        response = await nadia.post("/c/nursing/settings", announce_replies="yes", language="fr")
        assert response.status == 303
        await network.settle()
        await nadia.post("/c/nursing/threads", title="Repos", body="Comment dormez-vous ?")
        top = await newest_local_post(network)
        await omar.post(f"/t/{top.id}/reply", parent=str(top.id), body="Des rideaux.")
        await network.settle()
        announced = [
            d.activity["object"] for d in fake.deliveries("Announce", host="mastodon.test")
        ]
        reply = await newest_local_post(network)
        assert f"{network.url}/p/{reply.id}" in announced
        async with network.client.get(f"{network.url}/p/{reply.id}", headers=AS2) as answer:
            assert "fr" in (await answer.json(content_type=None))["contentMap"]
    finally:
        await nadia.client.close()
        await omar.client.close()


async def test_a_remote_authors_edits_keep_their_history_until_deleted(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    note_id = await remote_thread(network, fake, cop, alice, text="Pressure ulcers: first draft")
    edited = {
        "id": note_id,
        "type": "Note",
        "attributedTo": alice.id,
        "to": [PUBLIC],
        "cc": [cop],
        "content": "<p>Pressure ulcers: second draft</p>",
        "tag": [{"type": "Mention", "href": cop}],
        "updated": "2026-12-01T10:00:00Z",
    }
    update = {"id": fake.new_id(alice), "type": "Update", "actor": alice.id, "object": edited}
    assert (await fake.send(alice, f"{cop}/inbox", update, session=network.client)).status == 202
    await network.settle()
    post = await archived(network, note_id)
    async with network.app[SESSIONS]() as session:
        (revision,) = await session.scalars(select(PostRevision))
    assert revision.post_id == post.id and "first draft" in revision.content_html
    assert "second draft" in post.content_html
    delete = {"id": fake.new_id(alice), "type": "Delete", "actor": alice.id, "object": note_id}
    assert (await fake.send(alice, f"{cop}/inbox", delete, session=network.client)).status == 202
    await network.settle()
    async with network.app[SESSIONS]() as session:
        assert list(await session.scalars(select(PostRevision))) == []
    assert (await archived(network, note_id)).is_deleted


async def test_cop_followers_learn_of_edits_and_deletions_in_the_form_their_software_reads(
    network, fake
):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    bob = fake.actor("lemmy.test", "bob", software="lemmy", key_index=1)
    for follower in (alice, bob):
        follow = {"id": fake.new_id(follower), "type": "Follow", "actor": follower.id}
        follow["object"] = cop
        await fake.send(follower, f"{cop}/inbox", follow, session=network.client)
    await network.settle()
    nadia = await member(network, "nadia")
    try:
        await nadia.post("/c/nursing/threads", title="Falls", body="Bed alarms?")
        post = await newest_local_post(network)
        await nadia.post(f"/p/{post.id}/edit", title="Falls at night", body="Bed alarms, anyone?")
        await nadia.post(f"/p/{post.id}/delete", confirm="yes")
        await network.settle()
        note_url = f"{network.url}/p/{post.id}"
        nadia_url = f"{network.url}/u/nadia"
        # Mastodon takes an Update or Delete only from the author: it gets Nadia's own.
        (update,) = fake.deliveries("Update", host="mastodon.test")
        assert update.activity["actor"] == nadia_url and update.verified_by == nadia_url
        assert "name" not in update.activity["object"]
        assert update.activity["object"]["content"].startswith("<p><strong>Falls at night")
        (delete,) = fake.deliveries("Delete", host="mastodon.test")
        assert delete.activity["actor"] == nadia_url
        # Lemmy gets the CoP's FEP-1b12 Announce of each, the Update with the title as name.
        wrapped = {
            d.activity["object"]["type"]: d.activity["object"]
            for d in fake.deliveries("Announce", host="lemmy.test")
        }
        assert wrapped["Update"]["object"]["name"] == "Falls at night"
        assert wrapped["Delete"]["object"]["id"] == note_url
        assert fake.deliveries("Update", host="lemmy.test") == []
    finally:
        await nadia.client.close()
