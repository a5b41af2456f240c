"""The Network's admins: suspend a remote account or domain (optionally purging what it posted),
appoint moderators of an orphaned CoP. A suspended account's Follow, Create, Like and Flag are
all refused; a suspended domain is refused at the inbox by the federation policy."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from models.communities import CommunityModerator, get_community
from models.posts import Post
from models.received import ReceivedActivity
from server.appkeys import SESSIONS, SETTINGS, WRITE_SESSIONS
from server.cli import moderation as cli_moderation
from tests.moderation.support import follow, member, remote_post


async def _row(net, ap_id: str) -> ReceivedActivity:
    async with net.app[SESSIONS]() as session:
        return await session.scalar(select(ReceivedActivity).where(ReceivedActivity.ap_id == ap_id))


async def test_a_suspended_account_is_purged_and_everything_it_sends_is_refused(net, fake):
    cop = await net.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    await follow(net, fake, alice, cop)
    create = await remote_post(net, fake, alice, cop)
    tom = await member(net, "tom")
    ada = await member(net, "ada", admin=True)
    form = {"target": alice.id, "reason": "spam network", "purge": "on"}
    assert (await tom.post("/admin/suspensions", **form)).status in (403, 404)
    assert (await ada.post("/admin/suspensions", **form)).status == 303
    async with net.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).where(Post.ap_id == create["object"]["id"]))
    assert post.is_deleted
    status, page = await ada.page("/admin/suspensions")
    assert status == 200 and "spam network" in page

    sent = [
        {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop},
        {"id": fake.new_id(alice), "type": "Like", "actor": alice.id, "object": post.ap_id},
        {
            "id": fake.new_id(alice),
            "type": "Flag",
            "actor": alice.id,
            "object": post.ap_id,
            "content": "x",
        },
    ]
    for activity in sent:
        await fake.send(alice, f"{cop}/inbox", activity, session=net.client)
    later = await remote_post(net, fake, alice, cop)
    await net.settle()
    for activity in [*sent, later]:
        row = await _row(net, activity["id"])
        assert row.state == "rejected" and "suspended" in row.last_error, activity["type"]

    lift = {"target": alice.id, "action": "unsuspend"}
    assert (await ada.post("/admin/suspensions", **lift)).status == 303
    again = await remote_post(net, fake, alice, cop)
    assert (await _row(net, again["id"])).state == "done"


async def test_cli_suspends_a_domain_through_the_federation_policy_with_purge(net, fake, capsys):
    cop = await net.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    create = await remote_post(net, fake, alice, cop)
    settings = net.app[SETTINGS]
    args = argparse.Namespace(
        action="suspend", target="mastodon.test", reason="gone bad", purge=True
    )
    assert await cli_moderation.suspension_action(settings, args) == 0
    assert "1 posts purged" in capsys.readouterr().out
    async with net.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).where(Post.ap_id == create["object"]["id"]))
    assert post.is_deleted
    net.app_policy_invalidate()
    refused = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    response = await fake.send(alice, f"{cop}/inbox", refused, session=net.client)
    assert response.status == 403
    own = argparse.Namespace(action="suspend", target="copnet.test", reason="", purge=False)
    assert await cli_moderation.suspension_action(settings, own) == 1
    lift = argparse.Namespace(action="unsuspend", target="mastodon.test")
    assert await cli_moderation.suspension_action(settings, lift) == 0
    net.app_policy_invalidate()
    response = await fake.send(alice, f"{cop}/inbox", refused, session=net.client)
    assert response.status == 202


async def test_an_admin_appoints_moderators_of_an_orphaned_cop_and_nobody_else_can(net, fake):
    await net.community("orphan", "Orphan")  # no moderator at all
    tom = await member(net, "tom", joins="orphan")
    ada = await member(net, "ada", admin=True)
    refused = await tom.post("/c/orphan/moderation/moderators", person="tom", action="add")
    assert refused.status == 403
    appointed = await ada.post("/c/orphan/moderation/moderators", person="tom", action="add")
    assert appointed.status == 303
    async with net.app[WRITE_SESSIONS].begin() as session:
        community = await get_community(session, "orphan")
        mods = await session.scalars(
            select(CommunityModerator.actor_id).where(
                CommunityModerator.community_id == community.actor_id
            )
        )
        assert len(list(mods)) == 1
    assert (await tom.page("/c/orphan/moderation"))[0] == 200
