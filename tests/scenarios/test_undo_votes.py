"""Taking back a vote: an Undo whose embedded Like has a fresh id still removes the like.

Lemmy builds a new Vote (new activity id) for every UndoVote
(LemmyNet/lemmy crates/apub/src/activities/voting/mod.rs, send_like_activity: Vote::new then
UndoVote::new) and undoes by (actor, object) on receipt (undo_vote_comment/undo_vote_post);
PieFed does the same (pyfedi app/shared/tasks/likes.py, send_vote: `vote_id = ...gibberish(15)`
for the Like inside the Undo). The fixtures are Lemmy's captured pair (its test assets) and
PieFed's shape from that source (tests/fixtures/README.md).
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from models.communities import get_community
from models.posts import Like, Post, add_post
from models.received import ReceivedActivity
from server.appkeys import REMOTE, SESSIONS, WRITE_SESSIONS

COMMUNITY_URL = re.compile(r"http://[a-z0-9_.\-]+:\d+/c/[a-z0-9_]+(?=[\"/])")

PAIRS = [
    ("lemmy/activities/voting/like_note.json", "lemmy/activities/voting/undo_like_note.json"),
    ("piefed/activities/like_note.json", "piefed/activities/undo_like_note.json"),
]


def adapt(fake, relative: str, cop: str) -> dict:
    return json.loads(COMMUNITY_URL.sub(cop, json.dumps(fake.fixture(relative))))


async def archive(network, target: str, author_id: str) -> None:
    author = await network.app[REMOTE].get(author_id)
    async with network.app[WRITE_SESSIONS].begin() as session:
        community = await get_community(session, "nursing")
        post = Post(
            ap_id=target,
            community_id=community.actor_id,
            author_id=author.id,
            title="Shift handover",
            content_html="<p>words</p>",
        )
        await add_post(session, post, None)


async def state(network, activity_id: str) -> tuple[str, str | None]:
    async with network.app[SESSIONS]() as session:
        row = await session.scalar(
            select(ReceivedActivity).where(ReceivedActivity.ap_id == activity_id)
        )
    return row.state, row.last_error


async def likes(network) -> tuple[int, int]:
    async with network.app[SESSIONS]() as session:
        post = await session.scalar(select(Post))
        rows = list(await session.scalars(select(Like)))
    return post.like_count, len(rows)


@pytest.mark.parametrize(("like_file", "undo_file"), PAIRS)
async def test_undo_with_a_fresh_like_id_removes_the_original_like(
    network, fake, like_file, undo_file
):
    cop = await network.community("nursing", "Nursing")
    like = adapt(fake, like_file, cop)
    undo = adapt(fake, undo_file, cop)
    assert undo["object"]["id"] != like["id"]  # the shape this test is about
    actor = fake.actor_at(like["actor"])
    await archive(network, like["object"], like["actor"])

    response = await fake.send(actor, f"{cop}/inbox", like, session=network.client)
    assert response.status == 202
    await network.settle()
    assert await likes(network) == (1, 1)

    response = await fake.send(actor, f"{cop}/inbox", undo, session=network.client)
    assert response.status == 202
    await network.settle()
    assert (await state(network, undo["id"]))[0] == "done"
    assert await likes(network) == (0, 0)


async def test_an_undo_by_someone_else_leaves_the_like(network, fake):
    cop = await network.community("nursing", "Nursing")
    like = adapt(fake, PAIRS[1][0], cop)
    undo = adapt(fake, PAIRS[1][1], cop)
    actor = fake.actor_at(like["actor"])
    await archive(network, like["object"], like["actor"])
    await fake.send(actor, f"{cop}/inbox", like, session=network.client)
    await network.settle()

    mallory = fake.actor("piefed.social", "mallory")
    undo["actor"] = undo["object"]["actor"] = mallory.id
    undo["id"] = fake.new_id(mallory)
    response = await fake.send(mallory, f"{cop}/inbox", undo, session=network.client)
    assert response.status == 202
    await network.settle()
    assert await likes(network) == (1, 1)


@pytest.mark.parametrize("kind", ["Dislike", "Announce"])
async def test_undo_of_what_copnet_does_not_keep_is_ignored_with_a_reason(network, fake, kind):
    cop = await network.community("nursing", "Nursing")
    like = adapt(fake, PAIRS[0][0], cop)
    undo = adapt(fake, PAIRS[0][1], cop)
    undo["object"]["type"] = kind
    actor = fake.actor_at(undo["actor"])
    await archive(network, like["object"], like["actor"])
    await fake.send(actor, f"{cop}/inbox", like, session=network.client)
    await network.settle()

    response = await fake.send(actor, f"{cop}/inbox", undo, session=network.client)
    assert response.status == 202
    await network.settle()
    row_state, reason = await state(network, undo["id"])
    assert row_state == "ignored" and "undo" in reason
    assert await likes(network) == (1, 1)
