"""Nobody but a CoP's moderators (and the Network's admins) can moderate it: every action, by
form or forged POST from a member, by the CLI without an admin, is refused and changes nothing."""

from __future__ import annotations

import argparse

import pytest
from sqlalchemy import func, select

from models.communities import CommunityModerator
from models.deliveries import Delivery
from models.moderation import CommunityBan
from models.posts import Post
from server.appkeys import SESSIONS, SETTINGS
from server.cli import moderation as cli_moderation
from tests.moderation.support import log_entries, make_moderator, member

POST_ACTIONS = ("remove", "restore", "lock", "unlock", "pin", "unpin")


async def _state(net) -> tuple:
    async with net.app[SESSIONS]() as session:
        posts = [
            (p.removed_at, p.locked_at, p.pinned_at) for p in await session.scalars(select(Post))
        ]
        mods = len(list(await session.scalars(select(CommunityModerator))))
        bans = len(list(await session.scalars(select(CommunityBan))))
        deliveries = await session.scalar(select(func.count()).select_from(Delivery))
    return posts, mods, bans, deliveries, len(await log_entries(net))


async def _world(net):
    await net.community("nursing", "Nursing")
    await member(net, "mona", joins="nursing")
    await make_moderator(net, "nursing", "mona")
    tom = await member(net, "tom", joins="nursing")
    started = await tom.post("/c/nursing/threads", title="Hello", body="first")
    root = started.headers["Location"].rsplit("/", 1)[1]
    return tom, root


async def test_a_member_who_is_not_a_moderator_is_refused_every_action(net, fake):
    tom, root = await _world(net)
    before = await _state(net)
    for action in POST_ACTIONS:
        response = await tom.post(f"/t/{root}/moderate", post=root, action=action, reason="x")
        assert response.status == 403, action
        assert "moderators" in await response.text()
    for fields in (
        {"person": "mona", "action": "ban"},
        {"person": "mona", "action": "unban"},
    ):
        assert (await tom.post("/c/nursing/moderation/ban", **fields)).status == 403
    for change in ("add", "remove"):
        response = await tom.post("/c/nursing/moderation/moderators", person="tom", action=change)
        assert response.status == 403
    assert (await tom.page("/c/nursing/moderation"))[0] == 403
    assert await _state(net) == before


async def test_a_moderator_of_another_cop_cannot_moderate_this_one(net, fake):
    tom, root = await _world(net)
    await net.community("other", "Other")
    await make_moderator(net, "other", "tom")
    before = await _state(net)
    response = await tom.post(f"/t/{root}/moderate", post=root, action="remove")
    assert response.status == 403
    assert (await tom.post("/c/nursing/moderation/ban", person="mona")).status == 403
    assert await _state(net) == before


async def test_signed_out_posts_change_nothing(net, fake):
    tom, root = await _world(net)
    before = await _state(net)
    tom.client.cookie_jar.clear()
    response = await tom.post(f"/t/{root}/moderate", post=root, action="remove")
    assert response.status in (303, 403)  # to the sign-in page, or the CSRF refusal
    assert await _state(net) == before


def _args(**values) -> argparse.Namespace:
    return argparse.Namespace(reason="", days=None, remove_content=False, **values)


@pytest.mark.parametrize("action", POST_ACTIONS)
async def test_cli_refuses_a_non_admin_and_acts_for_an_admin(net, fake, action, capsys):
    _tom, root = await _world(net)
    await member(net, "ada", admin=True)
    settings = net.app[SETTINGS]
    before = await _state(net)
    args = _args(action=action, post=int(root), by="tom")
    assert await cli_moderation.post_action(settings, args) == 1
    assert "not an admin" in capsys.readouterr().err
    assert await _state(net) == before
    if action in ("restore", "unlock", "unpin"):
        return
    assert (
        await cli_moderation.post_action(settings, _args(action=action, post=int(root), by="ada"))
        == 0
    )
    entries = await log_entries(net)
    assert [e.action for e in entries] == [action]


async def test_cli_bans_and_appoints_only_for_an_admin(net, fake, capsys):
    await _world(net)
    await member(net, "ada", admin=True)
    settings = net.app[SETTINGS]
    ban = argparse.Namespace(
        action="ban",
        community="nursing",
        person="tom",
        by="tom",
        reason="r",
        days=3,
        remove_content=True,
    )
    assert await cli_moderation.ban_action(settings, ban) == 1
    appoint = argparse.Namespace(change="add", community="nursing", person="tom", by="mona")
    assert await cli_moderation.moderator_action(settings, appoint) == 1
    assert await log_entries(net) == []
    ban.by = appoint.by = "ada"
    assert await cli_moderation.ban_action(settings, ban) == 0
    assert await cli_moderation.moderator_action(settings, appoint) == 1  # a banned person
    assert "unban them first" in capsys.readouterr().err
    unban = argparse.Namespace(
        action="unban", community="nursing", person="tom", by="ada", reason=""
    )
    assert await cli_moderation.ban_action(settings, unban) == 0
    assert await cli_moderation.moderator_action(settings, appoint) == 0
    assert [e.action for e in await log_entries(net)] == ["ban", "unban", "add_moderator"]


async def test_only_moderators_see_the_moderation_controls(net, fake):
    tom, root = await _world(net)
    mona = next(m for m in net.members if m.name == "mona")
    status, page = await mona.page(f"/t/{root}")
    assert status == 200 and 'class="moderate-remove"' in page and "moderate-lock" in page
    status, page = await tom.page(f"/t/{root}")
    assert status == 200 and "moderate-remove" not in page and "Report" in page
