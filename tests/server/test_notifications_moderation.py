"""Notifications and moderation: join requests and reports reach a CoP's moderators; bans,
private CoPs and removed or deleted posts keep notifications from the wrong people."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.base import utcnow
from models.communities import Community, CommunityModerator
from models.moderation import set_ban
from models.notifications import JOIN_REQUEST, NEW_THREAD, REPLY, REPORT
from models.posts import Post
from server.appkeys import WRITE_SESSIONS
from tests.server.notification_helpers import (
    act_as,
    make_members,
    newest_post,
    notifications_of,
    run_jobs,
    submit,
)
from tests.server.test_auth import HTML, fast_argon2, start_web
from tests.support.instances import add_community


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url):
    site = await start_web(aiohttp_server, aiohttp_client, database_url)
    community = await add_community(site.app, "nursing", "Nursing Practice")
    ids = await make_members(site.app, "mo", "ann", "bob", "cat", "ada", admin=("ada",))
    async with site.app[WRITE_SESSIONS].begin() as session:
        session.add(CommunityModerator(community_id=community.actor_id, actor_id=ids["mo"]))
    site.ids = ids
    site.community_id = community.actor_id
    return site


async def join(web, *names: str) -> None:
    for name in names:
        token = await act_as(web, name)
        assert (await submit(web, "/c/nursing/join", token)).status == 303


async def make_private(web) -> None:
    async with web.app[WRITE_SESSIONS].begin() as session:
        community = await session.get(Community, web.community_id)
        community.manually_approves_followers = True


async def thread_by(web, name: str, title: str = "Falls at night"):
    token = await act_as(web, name)
    response = await submit(web, "/c/nursing/threads", token, title=title, body="Ideas?")
    assert response.status == 303, await response.text()
    return await newest_post(web.app)


async def test_a_request_to_join_a_private_cop_tells_its_moderators(web):
    await join(web, "mo")
    await make_private(web)
    token = await act_as(web, "ann")
    assert (await submit(web, "/c/nursing/join", token)).status == 303
    await run_jobs(web.app)
    assert await notifications_of(web.app, "mo") == [(JOIN_REQUEST, "ann", None)]
    assert await notifications_of(web.app, "ann") == []
    await act_as(web, "mo")
    page = await (await web.client.get("/notifications", headers={"Accept": HTML})).text()
    assert "asks to join" in page and 'href="/c/nursing/moderation"' in page
    # Asking twice while the request waits is one notification.
    token = await act_as(web, "ann")
    await submit(web, "/c/nursing/join", token)
    await run_jobs(web.app)
    assert len(await notifications_of(web.app, "mo")) == 1


async def test_following_a_private_cop_without_joining_is_refused(web):
    await make_private(web)
    token = await act_as(web, "ann")
    response = await submit(web, "/c/nursing/follow", token)
    assert response.status == 403
    assert "ask to join" in await response.text()


async def test_a_report_tells_the_moderators_and_not_the_reporter(web):
    await join(web, "mo", "ann", "bob")
    thread = await thread_by(web, "ann")
    await run_jobs(web.app)
    token = await act_as(web, "bob")
    response = await submit(web, "/report", token, kind="post", id=str(thread.id), reason="Spam")
    assert response.status == 303
    await run_jobs(web.app)
    mine = [n for n in await notifications_of(web.app, "mo") if n[0] == REPORT]
    assert mine == [(REPORT, "bob", thread.id)]
    assert [n for n in await notifications_of(web.app, "bob") if n[0] == REPORT] == []
    assert [n for n in await notifications_of(web.app, "ada") if n[0] == REPORT] == []
    await act_as(web, "mo")
    page = await (await web.client.get("/notifications", headers={"Accept": HTML})).text()
    assert "reported something for the moderators" in page and "Spam" in page


async def test_a_banned_member_hears_nothing_and_a_banned_author_notifies_nobody(web):
    await join(web, "ann", "bob", "cat")
    async with web.app[WRITE_SESSIONS].begin() as session:
        await set_ban(
            session, web.community_id, web.ids["cat"], reason="", expires_at=None, now=utcnow()
        )
    thread = await thread_by(web, "ann")
    await run_jobs(web.app)
    assert await notifications_of(web.app, "bob") == [(NEW_THREAD, "ann", thread.id)]
    assert await notifications_of(web.app, "cat") == []
    # Cat cannot like while banned.
    token = await act_as(web, "cat")
    assert (await submit(web, f"/p/{thread.id}/like", token)).status == 403
    # Banned after posting, before the worker ran: the post notifies nobody.
    second = await thread_by(web, "bob", title="Second")
    async with web.app[WRITE_SESSIONS].begin() as session:
        await set_ban(
            session, web.community_id, web.ids["bob"], reason="", expires_at=None, now=utcnow()
        )
    await run_jobs(web.app)
    assert (NEW_THREAD, "bob", second.id) not in await notifications_of(web.app, "ann")


async def test_removed_and_deleted_posts(web):
    await join(web, "ann", "bob")
    thread = await thread_by(web, "ann")
    await run_jobs(web.app)
    # A reply removed by a moderator before the worker ran notifies nobody.
    token = await act_as(web, "bob")
    await submit(web, f"/t/{thread.id}/reply", token, parent=str(thread.id), body="Rude words.")
    removed = await newest_post(web.app)
    async with web.app[WRITE_SESSIONS].begin() as session:
        (await session.get(Post, removed.id)).removed_at = utcnow()
    await run_jobs(web.app)
    assert await notifications_of(web.app, "ann") == []
    # A reply deleted after its notification was made: the page says so, without its words.
    await submit(web, f"/t/{thread.id}/reply", token, parent=str(thread.id), body="Secret words.")
    reply = await newest_post(web.app)
    await run_jobs(web.app)
    assert await notifications_of(web.app, "ann") == [(REPLY, "bob", reply.id)]
    response = await submit(web, f"/p/{reply.id}/delete", token, confirm="yes")
    assert response.status == 303
    await act_as(web, "ann")
    page = await (await web.client.get("/notifications", headers={"Accept": HTML})).text()
    assert "(this post was deleted)" in page and "Secret words" not in page
    async with web.app[WRITE_SESSIONS]() as session:
        assert (await session.scalar(select(Post).where(Post.id == reply.id))).is_deleted
