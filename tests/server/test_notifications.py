"""In-app notifications made by the scheduler: replies, mentions, new threads, watched threads,
likes; never of one's own doing, once per thing, and the bell and page that show them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import jobs
from models.notifications import LIKE, MENTION, NEW_THREAD, REPLY, WATCHED_REPLY
from models.outgoing import OutgoingActivity
from server.appkeys import LIKE_LIMITER, SESSIONS
from server.http.ratelimit import SlidingWindow
from tests.server.notification_helpers import (
    act_as,
    bell,
    make_members,
    newest_post,
    notification_ids,
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
    await add_community(site.app, "nursing", "Nursing Practice")
    await make_members(site.app, "ann", "bob", "cat", "dan")
    return site


async def join(web, *names: str) -> None:
    for name in names:
        token = await act_as(web, name)
        assert (await submit(web, "/c/nursing/join", token)).status == 303


async def thread_by(web, name: str, title: str = "Night shift handovers", body: str = "How?"):
    token = await act_as(web, name)
    response = await submit(web, "/c/nursing/threads", token, title=title, body=body)
    assert response.status == 303, await response.text()
    return await newest_post(web.app)


async def reply_by(web, name: str, parent, body: str):
    token = await act_as(web, name)
    root = parent.thread_id or parent.id
    response = await submit(web, f"/t/{root}/reply", token, parent=str(parent.id), body=body)
    assert response.status == 303, await response.text()
    return await newest_post(web.app)


async def test_notifications_are_made_by_the_scheduler_not_the_request(web):
    await join(web, "ann", "bob")
    thread = await thread_by(web, "ann")
    await reply_by(web, "bob", thread, "Handover at the bedside.")
    assert await notifications_of(web.app, "ann") == []  # the request only queued a job
    async with web.app[SESSIONS]() as session:
        queued = await session.scalar(
            select(func.count()).where(jobs.Job.kind == "notify", jobs.Job.state == jobs.PENDING)
        )
    assert queued == 2  # the thread and the reply
    assert await run_jobs(web.app) == 2
    assert await notifications_of(web.app, "ann") == [(REPLY, "bob", thread.id + 1)]


async def test_a_reply_that_also_mentions_you_is_one_notification(web):
    await join(web, "ann", "bob", "cat")
    thread = await thread_by(web, "ann")
    await run_jobs(web.app)
    reply = await reply_by(web, "bob", thread, "Agreed @ann@copnet.test, and @cat@copnet.test?")
    await run_jobs(web.app)
    ann = [n for n in await notifications_of(web.app, "ann") if n[2] == reply.id]
    assert ann == [(REPLY, "bob", reply.id)]
    cat = [n for n in await notifications_of(web.app, "cat") if n[2] == reply.id]
    assert cat == [(MENTION, "bob", reply.id)]
    # Bob is told of nothing he did himself.
    assert await notifications_of(web.app, "bob") == [(NEW_THREAD, "ann", thread.id)]


async def test_a_new_thread_notifies_members_and_followers_but_not_its_author(web):
    await join(web, "ann", "bob")
    token = await act_as(web, "cat")  # follows without joining
    assert (await submit(web, "/c/nursing/follow", token)).status == 303
    page = await (await web.client.get("/c/nursing", headers={"Accept": HTML})).text()
    assert "Stop following" in page and "Join this community" in page
    thread = await thread_by(web, "bob")
    await run_jobs(web.app)
    assert await notifications_of(web.app, "ann") == [(NEW_THREAD, "bob", thread.id)]
    assert await notifications_of(web.app, "cat") == [(NEW_THREAD, "bob", thread.id)]
    assert await notifications_of(web.app, "bob") == []
    assert await notifications_of(web.app, "dan") == []
    token = await act_as(web, "cat")
    assert (await submit(web, "/c/nursing/unfollow", token)).status == 303
    await thread_by(web, "bob", title="Second")
    await run_jobs(web.app)
    assert len(await notifications_of(web.app, "cat")) == 1


async def test_repliers_watch_the_thread_until_they_unwatch_it(web):
    await join(web, "ann", "bob", "cat", "dan")
    thread = await thread_by(web, "ann")
    first = await reply_by(web, "bob", thread, "Bob's first words.")
    await run_jobs(web.app)
    token = await act_as(web, "bob")
    page = await (await web.client.get(f"/t/{thread.id}", headers={"Accept": HTML})).text()
    assert "Stop watching" in page  # replying watched it
    second = await reply_by(web, "cat", thread, "Cat replies to Ann's thread.")
    await run_jobs(web.app)
    bob = [n for n in await notifications_of(web.app, "bob") if n[0] != NEW_THREAD]
    assert bob == [(WATCHED_REPLY, "cat", second.id)]
    ann = [n for n in await notifications_of(web.app, "ann")]
    assert ann == [(REPLY, "bob", first.id), (REPLY, "cat", second.id)]
    token = await act_as(web, "bob")
    response = await submit(web, f"/t/{thread.id}/unwatch", token)
    assert response.headers["Location"] == f"/t/{thread.id}?watching=off"
    await reply_by(web, "bob", thread, "Bob writes again: this does not watch it again.")
    await reply_by(web, "dan", thread, "Dan replies.")
    await run_jobs(web.app)
    assert [n for n in await notifications_of(web.app, "bob") if n[0] != NEW_THREAD] == bob
    # Dan never wrote there before: watching by hand brings the next reply.
    token = await act_as(web, "ann")
    await submit(web, f"/t/{thread.id}/unwatch", token)
    token = await act_as(web, "dan")
    assert (await submit(web, f"/t/{thread.id}/watch", token)).status == 303
    last = await reply_by(web, "cat", first, "Cat answers Bob.")
    await run_jobs(web.app)
    assert (WATCHED_REPLY, "cat", last.id) in await notifications_of(web.app, "dan")
    assert (REPLY, "cat", last.id) in await notifications_of(web.app, "bob")  # his post
    assert (WATCHED_REPLY, "cat", last.id) not in await notifications_of(web.app, "ann")


async def test_a_like_on_the_web_notifies_once_and_federates_like_and_undo(web):
    await join(web, "ann", "bob")
    thread = await thread_by(web, "ann")
    await run_jobs(web.app)
    token = await act_as(web, "bob")
    for path in ("like", "like", "unlike", "like"):
        response = await submit(web, f"/p/{thread.id}/{path}", token)
        assert response.status == 303
        assert response.headers["Location"] == f"/t/{thread.id}#post-{thread.id}"
    await run_jobs(web.app)
    assert await notifications_of(web.app, "ann") == [(LIKE, "bob", thread.id)]
    page = await (await web.client.get(f"/t/{thread.id}", headers={"Accept": HTML})).text()
    assert "1 like" in page and 'aria-pressed="true"' in page
    async with web.app[SESSIONS]() as session:
        sent = list(await session.scalars(select(OutgoingActivity).order_by(OutgoingActivity.id)))
    kinds = [activity.type for activity in sent if activity.type in ("Like", "Undo")]
    assert kinds == ["Like", "Undo", "Like"]
    # Liking one's own post notifies nobody.
    token = await act_as(web, "ann")
    await submit(web, f"/p/{thread.id}/like", token)
    await run_jobs(web.app)
    assert await notifications_of(web.app, "ann") == [(LIKE, "bob", thread.id)]
    # No post, no like: a clear 404.
    assert (await submit(web, "/p/999999/like", token)).status == 404


async def test_the_bell_counts_unread_and_the_page_marks_them_read(web):
    await join(web, "ann", "bob", "cat")
    thread = await thread_by(web, "ann", title="Pressure ulcers")
    await reply_by(web, "bob", thread, "One.")
    await reply_by(web, "cat", thread, "Two.")
    await run_jobs(web.app)
    token = await act_as(web, "ann")
    assert await bell(web) == 2
    page = await (await web.client.get("/notifications", headers={"Accept": HTML})).text()
    assert page.index("Cat</a> replied to your post") < page.index("Bob</a> replied to your post")
    assert "Pressure ulcers" in page and 'href="/c/nursing"' in page
    ann_ids = await notification_ids(web.app, "ann")
    assert (await submit(web, f"/notifications/{ann_ids[-1]}/read", token)).status == 303
    assert await bell(web) == 1
    # Someone else's notification cannot be marked: for them it is not there.
    bob_token = await act_as(web, "bob")
    assert (await submit(web, f"/notifications/{ann_ids[0]}/read", bob_token)).status == 404
    assert (await submit(web, "/notifications/nonsense/read", bob_token)).status == 404
    token = await act_as(web, "ann")
    # Without the CSRF token, nothing is marked.
    forged = await web.client.post("/notifications/read", data={}, allow_redirects=False)
    assert forged.status == 403
    assert await bell(web) == 1
    response = await submit(web, "/notifications/read", token)
    assert response.headers["Location"] == "/notifications?marked=all"
    assert await bell(web) == 0
    web.forget_cookies()
    visitor = await web.client.get(
        "/notifications", headers={"Accept": HTML}, allow_redirects=False
    )
    assert visitor.status in (302, 303) and "/login" in visitor.headers["Location"]


async def test_the_page_is_paginated_newest_first(web):
    await join(web, "ann", "bob")
    thread = await thread_by(web, "ann")
    for number in range(32):
        await reply_by(web, "bob", thread, f"Reply number {number}.")
    await run_jobs(web.app)
    await act_as(web, "ann")
    first = await (await web.client.get("/notifications", headers={"Accept": HTML})).text()
    assert first.count('class="unread"') == 30
    assert "Page 1 of 2" in first and 'rel="next" href="?page=2"' in first
    second = await (await web.client.get("/notifications?page=2", headers={"Accept": HTML})).text()
    assert second.count('class="unread"') == 2


async def test_likes_are_rate_limited_and_bad_targets_are_clear_404s(web):
    await join(web, "ann", "bob")
    thread = await thread_by(web, "ann")
    reply = await reply_by(web, "bob", thread, "A reply.")
    web.app[LIKE_LIMITER] = SlidingWindow(2, 3600, web.clock)
    token = await act_as(web, "bob")
    assert (await submit(web, f"/p/{thread.id}/like", token)).status == 303
    assert (await submit(web, f"/p/{thread.id}/unlike", token)).status == 303
    refused = await submit(web, f"/p/{thread.id}/like", token)
    assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
    assert "Please try again later" in await refused.text()
    web.clock.advance(3601)
    assert (await submit(web, f"/p/{thread.id}/like", token)).status == 303
    assert (await submit(web, "/p/abc/like", token)).status == 404
    watched = await submit(web, f"/t/{reply.id}/watch", token)
    assert watched.status == 404 and "that is a reply" in await watched.text()
    assert (await submit(web, "/c/nowhere/follow", token)).status == 404


async def test_an_edit_that_adds_a_mention_tells_only_the_newly_mentioned(web):
    await join(web, "ann", "bob", "cat")
    thread = await thread_by(web, "ann")
    reply = await reply_by(web, "bob", thread, "First words.")
    await run_jobs(web.app)
    token = await act_as(web, "bob")
    for _ in range(2):
        body = "First words, @cat@copnet.test and @ann@copnet.test."
        response = await submit(web, f"/p/{reply.id}/edit", token, body=body)
        assert response.status == 303, await response.text()
        await run_jobs(web.app)
    assert [n for n in await notifications_of(web.app, "cat") if n[2] == reply.id] == [
        (MENTION, "bob", reply.id)
    ]
    # Ann already heard of this reply (to her post): the mention adds nothing.
    assert [n for n in await notifications_of(web.app, "ann") if n[2] == reply.id] == [
        (REPLY, "bob", reply.id)
    ]
