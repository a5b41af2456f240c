"""Content signed by someone other than its author counts only as what the author addressed."""

from __future__ import annotations

from sqlalchemy import func, select

from federation.vocab import PUBLIC
from models.posts import Post
from models.received import ReceivedActivity
from server.appkeys import SESSIONS


def victims_note(fake, author, *, cc: list[str]) -> dict:
    return {
        "id": fake.new_id(author, "statuses"),
        "type": "Note",
        "attributedTo": author.id,
        "to": [PUBLIC],
        "cc": cc,
        "content": "<p>My own public thoughts</p>",
        "published": "2026-11-26T09:00:00Z",
    }


def pushed_create(fake, author, note: dict, cop: str) -> dict:
    """A Create that claims the author sent the note to the CoP, with the third party's `to`."""
    return {
        "id": note["id"] + "/activity",
        "type": "Create",
        "actor": author.id,
        "to": [cop, PUBLIC],
        "object": note,
    }


async def only_row(network) -> ReceivedActivity:
    async with network.app[SESSIONS]() as session:
        return await session.scalar(select(ReceivedActivity))


async def posts(network) -> int:
    async with network.app[SESSIONS]() as session:
        return int(await session.scalar(select(func.count()).select_from(Post)))


async def test_third_party_cannot_push_a_public_post_into_a_cop(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    mallory = fake.actor("gotosocial.test", "mallory", key_index=1)
    note = victims_note(fake, alice, cc=[f"{alice.id}/followers"])
    fake.serve(note["id"], note)
    response = await fake.send(
        alice,
        f"{cop}/inbox",
        pushed_create(fake, alice, note, cop),
        session=network.client,
        signer=mallory,
    )
    assert response.status == 202
    await network.settle()
    row = await only_row(network)
    assert row.forwarded is True
    assert row.state in ("ignored", "rejected")
    assert "not addressed to a community" in row.last_error
    assert await posts(network) == 0


async def test_forwarded_post_is_announced_with_the_authors_addressing(network, fake):
    cop = await network.community("nursing", "Nursing")
    follower = fake.actor("lemmy.test", "reader", software="lemmy", key_index=2)
    await fake.send(
        follower,
        f"{cop}/inbox",
        {"id": fake.new_id(follower), "type": "Follow", "actor": follower.id, "object": cop},
        session=network.client,
    )
    await network.settle()
    alice = fake.actor("mastodon.test", "alice")
    mallory = fake.actor("gotosocial.test", "mallory", key_index=1)
    note = victims_note(fake, alice, cc=[cop])
    fake.serve(note["id"], note)
    forged = pushed_create(fake, alice, note, cop)
    forged["cc"] = [f"{mallory.id}/followers"]
    await fake.send(alice, f"{cop}/inbox", forged, session=network.client, signer=mallory)
    await network.settle()
    assert await posts(network) == 1
    [announce] = [d.activity for d in fake.deliveries("Announce", host="lemmy.test")]
    embedded = announce["object"]
    assert embedded["to"] == note["to"]
    assert embedded["cc"] == note["cc"]
    assert mallory.id not in str(embedded)


async def test_forwarded_update_is_announced_with_the_authors_addressing(network, fake):
    cop = await network.community("nursing", "Nursing")
    follower = fake.actor("lemmy.test", "reader", software="lemmy", key_index=2)
    follow = {"id": fake.new_id(follower), "type": "Follow", "actor": follower.id, "object": cop}
    await fake.send(follower, f"{cop}/inbox", follow, session=network.client)
    alice = fake.actor("mastodon.test", "alice")
    note = victims_note(fake, alice, cc=[cop])
    await fake.send(
        alice, f"{cop}/inbox", pushed_create(fake, alice, note, cop), session=network.client
    )
    await network.settle()
    mallory = fake.actor("gotosocial.test", "mallory", key_index=1)
    edited = {**note, "content": "<p>edited</p>", "updated": "2026-11-27T09:00:00Z"}
    fake.serve(note["id"], edited)
    forged = {
        "id": note["id"] + "#update",
        "type": "Update",
        "actor": alice.id,
        "to": [f"{mallory.id}/followers"],
        "object": edited,
    }
    await fake.send(alice, f"{cop}/inbox", forged, session=network.client, signer=mallory)
    await network.settle()
    [announce] = [
        d.activity["object"]
        for d in fake.deliveries("Announce", host="lemmy.test")
        if d.activity["object"].get("type") == "Update"
    ]
    assert announce["to"] == note["to"] and announce["cc"] == note["cc"]
    assert mallory.id not in str(announce)
