"""Every captured activity from a real server: handled correctly, or refused with a reason.

Each fixture is moved onto the fake fediverse (its hosts served on loopback), any Lemmy-style
community it names becomes our CoP, and its actor signs it with a real key.
"""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from federation.objects import object_id
from models.communities import get_community
from models.follows import Follow
from models.posts import Post, add_post
from models.received import ReceivedActivity
from server.appkeys import REMOTE, SESSIONS, WRITE_SESSIONS
from tests.support.fixtures import FIXTURES

ACTIVITY_FIXTURES = sorted(
    str(path.relative_to(FIXTURES)) for path in FIXTURES.glob("*/activities/**/*.json")
)
# The communities the fixtures post to, once their hosts are on the fake.
FAKE_COMMUNITY_URL = re.compile(r"http://[a-z0-9_.\-]+:\d+/c/[a-z0-9_]+(?=[\"/])")

# What copnet must make of the fixtures it handles; the others only need a reason.
EXPECTED = {
    "lemmy/activities/following/follow.json": "follow",
    "mastodon/activities/follow.json": "follow",
    "lotide/activities/follow.json": "follow",
    "lemmy/activities/create_or_update/create_page.json": "post",
    "friendica/activities/create_page_1.json": "post",
    "lemmy/activities/voting/like_note.json": "liked",
    "mastodon/activities/like_page.json": "liked",
    "friendica/activities/like_page.json": "liked",
    "gnusocial/activities/like_note.json": "liked",
    "lemmy/activities/deletion/delete_page.json": "deleted",
    "mastodon/activities/delete.json": "deleted",
    "friendica/activities/delete.json": "deleted",
    "pleroma/activities/delete.json": "deleted",
    "lotide/activities/delete_note.json": "deleted",
    "lemmy/activities/create_or_update/update_page.json": "updated",
    "friendica/activities/update_note.json": "updated",
}
# Activities about an existing post: the post is archived first, written by the actor.
ABOUT_A_POST = {"Like", "Delete", "Update"}


async def archive_target(network, activity: dict, actor_id: str) -> None:
    """Archive the post the activity is about, as a thread of our CoP by the actor."""
    target = object_id(activity.get("object"))
    if activity.get("type") not in ABOUT_A_POST or not target or target == actor_id:
        return
    # Fetched first: the actor cache writes in its own transaction.
    author = await network.app[REMOTE].get(actor_id)
    async with network.app[WRITE_SESSIONS].begin() as session:
        community = await get_community(session, "nursing")
        post = Post(
            ap_id=target,
            community_id=community.actor_id,
            author_id=author.id,
            title="Archived",
            content_html="<p>original words</p>",
        )
        await add_post(session, post, None)


def adapt(fake, relative: str, cop: str) -> dict:
    """The fixture with its hosts on the fake and its community replaced by our CoP."""
    text = json.dumps(fake.fixture(relative))
    return json.loads(FAKE_COMMUNITY_URL.sub(cop, text))


@pytest.mark.parametrize("relative", ACTIVITY_FIXTURES)
async def test_fixture_is_handled_or_refused_with_a_reason(network, fake, relative):
    cop = await network.community("nursing", "Nursing")
    activity = adapt(fake, relative, cop)
    # A bare object (no actor) is signed by its author and must be refused as no activity.
    actor_id = activity.get("actor") or activity.get("attributedTo")
    actor_id = actor_id.get("id") if isinstance(actor_id, dict) else actor_id
    if not isinstance(actor_id, str) or not actor_id.startswith("http://"):
        pytest.fail(f"{relative} has no actor to sign with")
    actor = fake.actor_at(actor_id)
    for key in ("object",):
        inner = activity.get(key)
        if (
            isinstance(inner, dict)
            and isinstance(inner.get("id"), str)
            and inner.get("type") in ("Note", "Page", "Article")
        ):
            fake.serve(inner["id"], inner)
    await archive_target(network, activity, actor_id)
    response = await fake.send(actor, f"{cop}/inbox", activity, session=network.client)
    assert response.status in (202, 400, 401, 403), f"{relative}: HTTP {response.status}"
    if response.status != 202:
        return
    await network.settle()
    async with network.app[SESSIONS]() as session:
        row = await session.scalar(
            select(ReceivedActivity).where(ReceivedActivity.ap_id == activity["id"])
        )
        follows = list(await session.scalars(select(Follow)))
        posts = list(await session.scalars(select(Post)))
    expected = EXPECTED.get(relative)
    if row is None:
        assert expected is None, f"{relative} was not stored"
        return
    assert row.state in ("done", "ignored", "rejected"), f"{relative}: {row.state} {row.last_error}"
    if row.state != "done":
        assert row.last_error, f"{relative} was {row.state} without a reason"
    if expected == "follow":
        assert row.state == "done", row.last_error
        assert len(follows) == 1
        assert [d.activity["type"] for d in fake.deliveries()] == ["Accept"]
    elif expected == "post":
        assert row.state == "done", row.last_error
        assert [post.ap_id for post in posts] == [activity["object"]["id"]]
    elif expected in ("liked", "deleted", "updated"):
        assert row.state == "done", row.last_error
        (post,) = posts
        assert post.like_count == (1 if expected == "liked" else 0)
        assert post.is_deleted is (expected == "deleted")
        if expected == "updated":
            assert "original words" not in post.content_html
