"""Reports: from members on the web, and from other servers by Flag in Mastodon's shape
(mastodon app/lib/activitypub/activity/flag.rb; fixture mastodon/activities/flag.json) and
Lemmy's (lemmy crates/apub/src/activities/community/report.rs; fixture
lemmy/activities/community/report_page.json); resolved by a moderator's recorded action."""

from __future__ import annotations

from sqlalchemy import select

from models.documents import Document
from models.posts import Post
from models.received import ReceivedActivity
from models.reports import Report
from server.appkeys import SESSIONS, WRITE_SESSIONS
from tests.moderation.support import (
    log_entries,
    make_moderator,
    member,
    remote_post,
)
from tests.moderation.test_remote_moderation import LemmyGroup


async def _reports(net) -> list[Report]:
    async with net.app[SESSIONS]() as session:
        return list(await session.scalars(select(Report).order_by(Report.id)))


async def _state(net, ap_id: str) -> ReceivedActivity:
    async with net.app[SESSIONS]() as session:
        return await session.scalar(select(ReceivedActivity).where(ReceivedActivity.ap_id == ap_id))


async def _world(net, fake):
    cop = await net.community("nursing", "Nursing")
    mona = await member(net, "mona", joins="nursing")
    await make_moderator(net, "nursing", "mona")
    tom = await member(net, "tom", joins="nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    create = await remote_post(net, fake, alice, cop)
    async with net.app[SESSIONS]() as session:
        post = await session.scalar(select(Post).where(Post.ap_id == create["object"]["id"]))
    return cop, mona, tom, alice, post


async def test_a_member_reports_a_remote_post_its_origin_hears_and_a_moderator_removes_it(
    net, fake
):
    cop, mona, tom, alice, post = await _world(net, fake)
    response = await tom.post("/report", kind="post", id=str(post.id), reason="misinformation")
    assert response.status == 303 and response.headers["Location"].endswith("?reported=1")
    await net.settle()
    (flag,) = fake.deliveries("Flag", host="mastodon.test")
    assert flag.activity["actor"] == f"{net.url}/actor"  # our instance actor, not the member
    assert flag.activity["object"] == [alice.id, post.ap_id]
    assert flag.activity["content"] == "misinformation"
    assert flag.path == "/users/alice/inbox"

    assert (await tom.page("/reports"))[0] == 403
    status, queue = await mona.page("/reports")
    assert status == 200 and "misinformation" in queue and "Tom" not in queue
    (report,) = await _reports(net)
    forged = await tom.post(f"/reports/{report.id}/resolve", resolution="dismiss")
    assert forged.status == 403
    assert (await _reports(net))[0].state == "open"

    done = await mona.post(f"/reports/{report.id}/resolve", resolution="remove", reason="false")
    assert done.status == 303
    (report,) = await _reports(net)
    assert report.state == "resolved" and report.resolution == "remove"
    async with net.app[SESSIONS]() as session:
        assert (await session.get(Post, post.id)).is_removed
    assert [e.action for e in await log_entries(net)] == ["remove"]
    # The public log never names the reporter.
    log = await (await net.client.get(f"{cop}/modlog", headers={"Accept": "text/html"})).text()
    assert "false" in log and "Tom" not in log
    assert "No open reports" in (await mona.page("/reports"))[1]


async def test_reports_are_resolved_by_a_ban_or_dismissed_and_recorded(net, fake):
    _cop, mona, tom, _alice, post = await _world(net, fake)
    for reason in ("spam", "rude"):
        await tom.post("/report", kind="post", id=str(post.id), reason=reason)
    first, second = await _reports(net)
    assert (
        await mona.post(f"/reports/{first.id}/resolve", resolution="ban", days="7")
    ).status == 303
    assert (await mona.post(f"/reports/{second.id}/resolve", resolution="dismiss")).status == 303
    first, second = await _reports(net)
    assert (first.resolution, second.resolution) == ("ban", "dismiss")
    assert [e.action for e in await log_entries(net)] == ["ban"]
    again = await mona.post(f"/reports/{first.id}/resolve", resolution="dismiss")
    assert again.status == 400


async def test_reporting_needs_a_reason_and_an_existing_post(net, fake):
    _cop, _mona, tom, _alice, post = await _world(net, fake)
    assert (await tom.post("/report", kind="post", id=str(post.id), reason="")).status == 400
    assert (await tom.post("/report", kind="post", id="99999", reason="x")).status == 404
    assert (await tom.post("/report", kind="thing", id=str(post.id), reason="x")).status == 400
    assert await _reports(net) == []


async def test_a_document_is_reported_and_removed_with_its_thread(net, fake):
    _cop, mona, tom, _alice, _post = await _world(net, fake)
    started = await tom.post("/c/nursing/threads", title="Guide", body="a guide")
    thread_id = int(started.headers["Location"].rsplit("/", 1)[1])
    async with net.app[WRITE_SESSIONS].begin() as session:
        thread = await session.get(Post, thread_id)
        document = Document(
            community_id=thread.community_id,
            uploader_id=thread.author_id,
            title="Guide",
            post_id=thread.id,
        )
        session.add(document)
        await session.flush()
        document_id = document.id
    response = await mona.post("/report", kind="document", id=str(document_id), reason="copyright")
    assert response.status == 303
    (report,) = await _reports(net)
    assert report.document_id == document_id and report.post_id == thread_id
    await mona.post(f"/reports/{report.id}/resolve", resolution="remove")
    async with net.app[SESSIONS]() as session:
        assert (await session.get(Document, document_id)).deleted_at is not None
        assert (await session.get(Post, thread_id)).is_removed


async def test_reporting_a_post_in_a_remote_cop_flags_the_cop_and_the_admins_see_it(net, fake):
    lemmy = LemmyGroup(net, fake, "ds9.lemmy.ml", [f"{fake.base('ds9.lemmy.ml')}/u/lemmy_alpha"])
    await lemmy.followed_by_a_member()
    post = await lemmy.post(2, f"{lemmy.base}/u/carol")
    tom = await member(net, "tom")
    await tom.post("/report", kind="post", id=str(post.id), reason="spam link")
    await net.settle()
    flags = fake.deliveries("Flag", host="ds9.lemmy.ml")
    lemmy_form = [f.activity for f in flags if f.activity["actor"] == f"{net.url}/u/tom"]
    (flag,) = lemmy_form
    assert flag["to"] == [lemmy.url] and flag["object"] == post.ap_id
    assert flag["summary"] == "spam link"
    ada = await member(net, "ada", admin=True)
    status, queue = await ada.page("/reports")
    assert status == 200 and "spam link" in queue


async def test_mastodon_flag_becomes_a_report_and_objects_not_ours_are_ignored(net, fake):
    _cop, _mona, tom, _alice, _post = await _world(net, fake)
    started = await tom.post("/c/nursing/threads", title="Mine", body="text")
    thread_id = started.headers["Location"].rsplit("/", 1)[1]
    reporter = fake.actor_at(f"{fake.base('mastodon.example')}/actor", type_="Application")
    flag = fake.fixture(
        "mastodon/activities/flag.json",
        {
            "https://example.com/users/1": f"{net.url}/u/tom",
            "https://example.com/posts/380590": f"{net.url}/p/{thread_id}",
            "https://example.com/posts/380591": f"{net.url}/p/999999",
        },
    )
    assert flag["actor"] == reporter.id
    response = await fake.send(reporter, f"{net.url}/inbox", flag, session=net.client)
    assert response.status == 202
    await net.settle()
    assert (await _state(net, flag["id"])).state == "done"
    reported, ignored = await _reports(net)
    assert reported.state == "open" and reported.post_id == int(thread_id)
    assert reported.reason == "Please take a look at this user and their posts"
    assert reported.origin_domain.startswith("mastodon.example")
    assert ignored.state == "ignored" and "no such post" in ignored.note
    assert ignored.target_ap_id == f"{net.url}/p/999999"


async def test_lemmy_flag_to_the_group_becomes_a_report(net, fake):
    cop, mona, _tom, _alice, post = await _world(net, fake)
    flag = fake.fixture(
        "lemmy/activities/community/report_page.json",
        {"http://enterprise.lemmy.ml/c/main": cop, "http://enterprise.lemmy.ml/post/7": post.ap_id},
    )
    reporter = fake.actor_at(flag["actor"], key_index=1)
    response = await fake.send(reporter, f"{cop}/inbox", flag, session=net.client)
    assert response.status == 202
    await net.settle()
    (report,) = await _reports(net)
    assert report.state == "open" and report.reason == "report this post"
    assert "report this post" in (await mona.page("/reports"))[1]


async def test_flag_floods_are_limited_per_server_and_banned_actors_cannot_flag(net, fake):
    cop, mona, _tom, alice, post = await _world(net, fake)
    from server.activities import flag as flag_handler

    flagger = fake.actor("lemmy.test", "flooder", software="lemmy", key_index=1)
    limit = flag_handler.FLAGS_PER_HOUR
    ids = []
    for _ in range(limit + 1):
        flag = {
            "id": fake.new_id(flagger),
            "type": "Flag",
            "actor": flagger.id,
            "to": [cop],
            "object": post.ap_id,
            "summary": "again",
        }
        ids.append(flag["id"])
        await fake.send(flagger, f"{cop}/inbox", flag, session=net.client)
    await net.settle(rounds=50)
    last = await _state(net, ids[-1])
    assert last.state == "rejected" and "too many reports" in last.last_error
    assert len(await _reports(net)) == limit

    await mona.post("/c/nursing/moderation/ban", person=alice.id, reason="spam")
    flag = {
        "id": fake.new_id(alice),
        "type": "Flag",
        "actor": alice.id,
        "to": [cop],
        "object": post.ap_id,
        "summary": "revenge",
    }
    await fake.send(alice, f"{cop}/inbox", flag, session=net.client)
    like = {"id": fake.new_id(alice), "type": "Like", "actor": alice.id, "object": post.ap_id}
    await fake.send(alice, f"{cop}/inbox", like, session=net.client)
    await net.settle()
    for refused in (flag, like):
        row = await _state(net, refused["id"])
        assert row.state == "rejected" and "banned" in row.last_error, refused["type"]
