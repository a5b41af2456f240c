"""A CoP awaiting admin approval exists only for its founder and the admins."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from models import site_modes
from models.communities import Community
from models.received import ReceivedActivity
from server.appkeys import SESSIONS, WRITE_SESSIONS
from tests.server.test_auth import fast_argon2, start_web
from tests.server.test_community_web import HTML, post_form, sign_in

AS2 = "application/activity+json"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


async def statuses(web, name: str) -> dict[str, int]:
    """What each way of finding the CoP answers to whoever holds the client's session."""
    client = web.client
    found = {
        "html": (await client.get(f"/c/{name}", headers={"Accept": HTML})).status,
        "as2": (await client.get(f"/c/{name}", headers={"Accept": AS2})).status,
        "outbox": (await client.get(f"/c/{name}/outbox", headers={"Accept": AS2})).status,
        "documents": (await client.get(f"/c/{name}/documents", headers={"Accept": HTML})).status,
        "resources": (await client.get(f"/c/{name}/resources", headers={"Accept": AS2})).status,
        "calendar": (await client.get(f"/c/{name}/basecamps.ics")).status,
        "webfinger": (
            await client.get(f"/.well-known/webfinger?resource=acct:{name}@copnet.test")
        ).status,
    }
    return found


async def test_pending_cop_is_404_for_everyone_but_its_founder_and_admins(
    aiohttp_server, aiohttp_client, database_url
):
    web = await start_web(aiohttp_server, aiohttp_client, database_url)
    async with web.client.app[WRITE_SESSIONS]() as session:
        await site_modes.set_cop_creation(session, "approval")
        await session.commit()
    token = await sign_in(web, "nadia")
    await post_form(web, "/communities/new", token, name="pending_cop", title="Pending")
    assert set((await statuses(web, "pending_cop")).values()) == {200}
    started = await post_form(web, "/c/pending_cop/threads", token, title="First", body="Hi")
    thread = started.headers["Location"]
    post = thread.replace("/t/", "/p/")
    assert (await web.client.get(thread, headers={"Accept": HTML})).status == 200

    other = await sign_in(web, "tom")  # the client now holds Tom's session
    assert set((await statuses(web, "pending_cop")).values()) == {404}
    for path in (thread, f"{thread}/context", post, f"{post}/replies"):
        assert (await web.client.get(path, headers={"Accept": AS2})).status == 404, path
    assert (await web.client.get(thread, headers={"Accept": HTML})).status == 404
    assert (await post_form(web, "/c/pending_cop/join", other)).status == 404
    thread = await post_form(web, "/c/pending_cop/threads", other, title="Hi", body="Hello")
    assert thread.status == 404

    web.client.session.cookie_jar.clear()
    assert set((await statuses(web, "pending_cop")).values()) == {404}

    await sign_in(web, "ada", admin=True)
    assert set((await statuses(web, "pending_cop")).values()) == {200}


async def test_pending_cop_rejects_follows_and_posts_from_other_servers(network, fake):
    cop = await network.community("pending_cop", "Pending")
    async with network.app[WRITE_SESSIONS].begin() as session:
        await session.execute(update(Community).values(status="pending"))
    alice = fake.actor("mastodon.test", "alice")
    note_id = fake.new_id(alice, "statuses")
    activities = [
        {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop},
        {
            "id": note_id + "/activity",
            "type": "Create",
            "actor": alice.id,
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": alice.id,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [cop],
                "content": "<p>hello</p>",
            },
        },
    ]
    for activity in activities:
        response = await fake.send(alice, f"{cop}/inbox", activity, session=network.client)
        assert response.status == 202
    await network.settle()
    async with network.app[SESSIONS]() as session:
        rows = list(await session.scalars(select(ReceivedActivity)))
    assert sorted(row.type for row in rows) == ["Create", "Follow"]
    for row in rows:
        assert row.state == "rejected"
        assert "awaiting approval" in row.last_error
    assert fake.deliveries("Accept") == []
