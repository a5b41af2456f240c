"""A key change announced by a verified Update{Person} takes effect at once, not after a day."""

from __future__ import annotations

import dataclasses

import pytest

from tests.support.fakeremote import pooled_keypair


def follow(fake, actor, cop: str) -> dict:
    return {"id": fake.new_id(actor), "type": "Follow", "actor": actor.id, "object": cop}


def rotate(fake, actor, *, key_index: int, key_id: str | None = None):
    """The actor's server now lists a new key; returns the actor signing with it."""
    private_pem, public_pem = pooled_keypair(key_index)
    document = {
        **actor.document,
        "publicKey": {
            "id": key_id or actor.key_id,
            "owner": actor.id,
            "publicKeyPem": public_pem,
        },
    }
    fake.serve(actor.id, document)
    fake.actors[actor.id] = rotated = dataclasses.replace(
        actor, private_pem=private_pem, public_pem=public_pem, document=document
    )
    return rotated


@pytest.mark.parametrize("new_key_id", [False, True], ids=["same-key-id", "new-key-id"])
async def test_old_key_stops_verifying_once_the_update_is_processed(network, fake, new_key_id):
    cop = await network.community("nursing", "Nursing")
    old = fake.actor("mastodon.test", "alice")
    response = await fake.send(old, f"{cop}/inbox", follow(fake, old, cop), session=network.client)
    assert response.status == 202  # the old key is now cached
    await network.settle()

    new = rotate(fake, old, key_index=3, key_id=f"{old.id}#key-2" if new_key_id else None)
    update = {"id": fake.new_id(old), "type": "Update", "actor": old.id, "object": new.document}
    # Signed with the old key, which was still valid when the Update was sent.
    response = await fake.send(old, f"{cop}/inbox", update, session=network.client)
    assert response.status == 202
    await network.settle()

    stale = await fake.send(old, f"{cop}/inbox", follow(fake, old, cop), session=network.client)
    assert stale.status == 401
    fresh = await fake.send(new, f"{cop}/inbox", follow(fake, new, cop), session=network.client)
    assert fresh.status == 202
