"""A second copy of an archived post (another Create of the same Note) is ignored at once."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from federation.vocab import PUBLIC
from models.posts import Post
from models.received import ReceivedActivity
from server.appkeys import SESSIONS


async def test_second_create_of_the_same_note_is_ignored_not_retried(network, fake, caplog):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    note = {
        "id": fake.new_id(alice, "statuses"),
        "type": "Note",
        "attributedTo": alice.id,
        "to": [PUBLIC],
        "cc": [cop],
        "content": "<p>@nursing handover tips</p>",
    }
    caplog.set_level(logging.INFO)
    for copy in ("first", "second"):
        create = {
            "id": f"{note['id']}/activity-{copy}",
            "type": "Create",
            "actor": alice.id,
            "object": note,
        }
        response = await fake.send(alice, f"{cop}/inbox", create, session=network.client)
        assert response.status == 202
        await network.settle()
    async with network.app[SESSIONS]() as session:
        rows = list(await session.scalars(select(ReceivedActivity).order_by(ReceivedActivity.id)))
        posts = await session.scalar(select(func.count()).select_from(Post))
    assert [row.state for row in rows] == ["done", "ignored"]
    assert "already archived" in rows[1].last_error
    assert rows[1].attempts == 0
    assert posts == 1
    assert [r for r in caplog.records if r.exc_info] == []
