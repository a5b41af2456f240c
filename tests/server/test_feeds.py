"""Atom feeds: every feed validates (feedparser, bozo false), lists only what an anonymous
visitor may read, keeps entry ids stable across edits, answers conditional GETs with 304, and
every page that has a feed announces it with <link rel="alternate">."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import feedparser
import pytest
from sqlalchemy import event, select

from models import policy_queries
from models.account_lifecycle import remove_member
from models.actors import Actor, get_local_actor
from models.base import utcnow
from models.communities import get_community
from models.moderation import Suspension
from models.posts import Post, add_post
from server.appkeys import ENGINE, POLICY, SESSIONS, URLS, WRITE_SESSIONS
from server.services.basecamp_input import parse_input
from server.services.basecamps import cancel_basecamp, create_basecamp
from server.services.moderation import hide_post
from server.services.post_editing import delete_post, edit_own_post
from server.services.posts import publish_post
from tests.server.test_auth import HTML, make_member, start_web
from tests.support.instances import add_community

ATOM = "application/atom+xml; charset=utf-8"
BASE = "https://copnet.test"


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url, tmp_path):
    return await start_web(
        aiohttp_server, aiohttp_client, database_url, media_dir=str(tmp_path / "media")
    )


@dataclass
class World:
    """What the feeds are tested against: ids of posts that must show and must not."""

    thread: int
    reply: int
    remote_reply: int
    private_thread: int
    private_reply: int
    removed_thread: int
    removed_reply: int
    deleted_reply: int
    suspended_reply: int
    blocked_reply: int


async def publish(app, author_name: str, cop: str, title: str, body: str, parent=None) -> int:
    async with app[WRITE_SESSIONS]() as session:
        author = await get_local_actor(session, author_name)
        community = await get_community(session, cop)
        parent_post = await session.get(Post, parent) if parent else None
        post = await publish_post(
            session,
            app[URLS],
            author=author,
            group=community.actor,
            community=community,
            title=title,
            body_markdown=body,
            parent=parent_post,
            now=utcnow(),
        )
        await session.commit()
        return post.id


async def remote_reply(app, parent: int, username: str, domain: str, html: str) -> int:
    """A reply archived from another server, as the intake stores it."""
    async with app[WRITE_SESSIONS]() as session:
        author = Actor(
            type="Person",
            ap_id=f"https://{domain}/users/{username}",
            username=username,
            display_name=username.title(),
            domain=domain,
            inbox_url=f"https://{domain}/users/{username}/inbox",
            public_key_pem="-",
        )
        session.add(author)
        await session.flush()
        parent_post = await session.get(Post, parent)
        post = Post(
            ap_id=f"https://{domain}/notes/{username}-{parent}",
            community_id=parent_post.community_id,
            author_id=author.id,
            content_html=html,
            published=utcnow(),
            last_activity_at=utcnow(),
        )
        await add_post(session, post, parent_post)
        await session.commit()
        return post.id


async def build_world(app) -> World:
    for name in ("ada", "ben"):
        await make_member(app, name)
    await add_community(app, "wound_care", "Wound Care", "Dressings and healing")
    await add_community(app, "closed_ward", "Closed Ward", "Members only")
    async with app[WRITE_SESSIONS]() as session:
        (await get_community(session, "closed_ward")).manually_approves_followers = True
        await session.commit()
    thread = await publish(app, "ada", "wound_care", "Honey dressings", "Do they **work**?")
    reply = await publish(app, "ben", "wound_care", "", "Yes, for burns.", parent=thread)
    remote = await remote_reply(
        app,
        thread,
        "kim",
        "social.example",
        '<p>From afar <script>alert("x")</script><a href="javascript:alert(1)">x</a></p>',
    )
    private_thread = await publish(app, "ada", "closed_ward", "Ward secret", "Not for all")
    private_reply = await publish(app, "ben", "closed_ward", "", "Quiet", parent=private_thread)
    removed_thread = await publish(app, "ben", "wound_care", "Spam thread", "Buy now")
    removed_reply = await publish(app, "ben", "wound_care", "", "Off topic", parent=thread)
    deleted_reply = await publish(app, "ada", "wound_care", "", "Regret this", parent=thread)
    suspended = await remote_reply(app, thread, "troll", "social.example", "<p>Troll</p>")
    blocked = await remote_reply(app, thread, "bot", "bad.example", "<p>Blocked</p>")
    async with app[WRITE_SESSIONS]() as session:
        for post_id in (removed_thread, removed_reply):
            await hide_post(session, await session.get(Post, post_id), "spam", utcnow())
        await delete_post(
            session, app[URLS], post=await session.get(Post, deleted_reply), now=utcnow(), by=None
        )
        troll = await session.scalar(select(Actor).where(Actor.username == "troll"))
        session.add(Suspension(actor_id=troll.id, reason="abuse"))
        await policy_queries.set_domain(session, "bad.example", "block", "spam")
        await session.commit()
    app[POLICY].invalidate()
    return World(
        thread,
        reply,
        remote,
        private_thread,
        private_reply,
        removed_thread,
        removed_reply,
        deleted_reply,
        suspended,
        blocked,
    )


async def fetch_feed(web, path: str, **headers):
    response = await web.client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"] == ATOM
    parsed = feedparser.parse(await response.read())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return response, parsed


def ids(parsed) -> list[str]:
    return [entry.id for entry in parsed.entries]


def post_url(post_id: int) -> str:
    return f"{BASE}/p/{post_id}"


def links(parsed_feed, rel: str) -> list[str]:
    return [link.href for link in parsed_feed.feed.links if link.rel == rel]


# --- what each feed lists ----------------------------------------------------------------------


async def test_each_feed_validates_and_lists_only_what_anyone_may_read(web):
    app = web.client.server.app
    world = await build_world(app)
    hidden = {
        post_url(world.private_thread),
        post_url(world.private_reply),
        post_url(world.removed_thread),
        post_url(world.removed_reply),
        post_url(world.deleted_reply),
    }
    async with app[SESSIONS]() as session:
        hidden |= {
            post.ap_id
            for post in await session.scalars(
                select(Post).where(Post.id.in_([world.suspended_reply, world.blocked_reply]))
            )
        }

    _, cop = await fetch_feed(web, "/c/wound_care/threads.atom")
    assert ids(cop) == [post_url(world.thread)]
    assert cop.feed.title == "Wound Care: new threads"
    assert links(cop, "self") == [f"{BASE}/c/wound_care/threads.atom"]
    assert links(cop, "alternate") == [f"{BASE}/c/wound_care"]
    assert cop.feed.language == "en"

    _, network = await fetch_feed(web, "/threads.atom")
    assert ids(network) == [post_url(world.thread)]  # no private, no removed thread

    _, replies = await fetch_feed(web, f"/t/{world.thread}/replies.atom")
    remote_id = f"https://social.example/notes/kim-{world.thread}"
    assert ids(replies) == [remote_id, post_url(world.reply)]  # newest first
    assert links(replies, "alternate") == [f"{BASE}/t/{world.thread}"]

    _, ada = await fetch_feed(web, "/u/ada/posts.atom")
    assert ids(ada) == [post_url(world.thread)]  # neither her private nor her deleted posts
    _, ben = await fetch_feed(web, "/u/ben/posts.atom")
    assert ids(ben) == [post_url(world.reply)]
    assert links(ben, "alternate") == [f"{BASE}/u/ben"]

    for parsed in (cop, network, replies, ada, ben):
        assert not hidden & set(ids(parsed))
        for entry in parsed.entries:
            assert "Ward secret" not in entry.get("content", [{"value": ""}])[0]["value"]


async def test_entries_carry_author_links_dates_and_safe_html(web):
    app = web.client.server.app
    world = await build_world(app)
    _, replies = await fetch_feed(web, f"/t/{world.thread}/replies.atom")
    remote, ours = replies.entries
    assert ours.author == "Ben"
    assert ours.author_detail.href == f"{BASE}/u/ben"
    assert ours.link == f"{BASE}/t/{world.thread}#post-{world.reply}"
    assert ours.title == "Reply by Ben to “Honey dressings”"
    assert "Yes, for burns." in ours.content[0].value
    assert ours.content[0].type == "text/html"
    assert remote.author == "Kim"
    assert remote.author_detail.href == "https://social.example/users/kim"
    # Stored HTML is sanitised again on the way out: no script, no javascript: link.
    raw = remote.content[0].value
    assert "From afar" in raw
    assert "<script" not in raw and "javascript:" not in raw

    _, cop = await fetch_feed(web, "/c/wound_care/threads.atom")
    (top,) = cop.entries
    assert top.title == "Honey dressings"
    assert "<strong>work</strong>" in top.content[0].value
    assert top.link == f"{BASE}/t/{world.thread}"
    assert top.published == top.updated


async def test_an_edit_updates_the_entry_under_the_same_id(web):
    app = web.client.server.app
    world = await build_world(app)
    _, before = await fetch_feed(web, "/c/wound_care/threads.atom")
    later = utcnow() + timedelta(minutes=5)
    async with app[WRITE_SESSIONS]() as session:
        post = await session.get(Post, world.thread)
        ada = await get_local_actor(session, "ada")
        await edit_own_post(
            session,
            app[URLS],
            post=post,
            editor=ada,
            title="Honey dressings, revisited",
            body_markdown="Do they work on ulcers?",
            mentions=[],
            now=later,
        )
        await session.commit()
    _, after = await fetch_feed(web, "/c/wound_care/threads.atom")
    assert ids(after) == ids(before)
    (entry,) = after.entries
    assert entry.title == "Honey dressings, revisited"
    assert entry.updated_parsed > before.entries[0].updated_parsed
    assert entry.published == before.entries[0].published
    assert after.feed.updated == entry.updated


async def test_text_xml_cannot_carry_is_dropped_not_a_500(web):
    app = web.client.server.app
    await make_member(app, "ada")
    await add_community(app, "wound_care", "Wound Care")
    thread = await publish(app, "ada", "wound_care", "Honey dressings", "Do they work?")
    await remote_reply(app, thread, "odd", "social.example", "<p>bell\x07 and form\x0c feed</p>")
    async with app[WRITE_SESSIONS]() as session:
        odd = await session.scalar(select(Actor).where(Actor.username == "odd"))
        odd.display_name = "Odd\x01 One"
        await session.commit()
    _, replies = await fetch_feed(web, f"/t/{thread}/replies.atom")
    (entry,) = replies.entries
    assert entry.author == "Odd One"
    assert "bell and form feed" in entry.content[0].value


# --- Basecamps -------------------------------------------------------------------------------


async def test_basecamp_entries_say_when_and_where_and_cancellation(web):
    app = web.client.server.app
    await add_community(app, "wound_care", "Wound Care")
    now = utcnow()
    day = (now + timedelta(days=30)).date().isoformat()
    async with app[WRITE_SESSIONS]() as session:
        data = parse_input(
            {
                "name": "Leeds learning day",
                "description": "Bring <b>questions</b>",
                "start": f"{day} 10:00",
                "end": f"{day} 16:00",
                "timezone": "Europe/London",
                "place_name": "Leeds Town Hall",
                "locality": "Leeds",
                "category": "LEARNING",
            },
            ["wound_care"],
        )
        kept = await create_basecamp(session, app[URLS], data, creator_id=None, now=now)
        data = parse_input(
            {
                "name": "Cancelled meetup",
                "start": f"{day} 18:00",
                "end": f"{day} 19:00",
                "online_url": "https://meet.example/ward",
            },
            [],
        )
        called_off = await create_basecamp(
            session, app[URLS], data, creator_id=None, now=now + timedelta(seconds=1)
        )
        await cancel_basecamp(session, app[URLS], called_off, now=now + timedelta(seconds=2))
        await session.commit()
    _, feed = await fetch_feed(web, "/basecamps.atom")
    assert ids(feed) == [f"{BASE}/b/{called_off.id}", f"{BASE}/b/{kept.id}"]
    cancelled, learning = feed.entries
    assert cancelled.title == "Cancelled: Cancelled meetup"
    assert cancelled.summary.startswith("CANCELLED.")
    assert learning.link == f"{BASE}/b/{kept.id}"
    assert "Leeds Town Hall, Leeds" in learning.summary
    assert "10:00" in learning.summary and "Hosted by Wound Care" in learning.summary
    assert "questions" in learning.content[0].value
    assert links(feed, "alternate") == [f"{BASE}/basecamps"]


# --- HTTP: caching, limits, cost, errors ---------------------------------------------------------


async def test_conditional_get_answers_304_until_something_changes(web):
    app = web.client.server.app
    world = await build_world(app)
    path = f"/t/{world.thread}/replies.atom"
    first, _ = await fetch_feed(web, path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and modified.endswith("GMT")
    same = await web.client.get(path, headers={"If-None-Match": etag})
    assert same.status == 304
    assert same.headers["ETag"] == etag
    assert await same.read() == b""
    since = await web.client.get(path, headers={"If-Modified-Since": modified})
    assert since.status == 304
    other = await web.client.get(path, headers={"If-None-Match": '"something-else"'})
    assert other.status == 200

    await publish(app, "ada", "wound_care", "", "A new reply", parent=world.thread)
    changed, parsed = await fetch_feed(web, path, **{"If-None-Match": etag})
    assert changed.headers["ETag"] != etag
    assert "A new reply" in parsed.entries[0].content[0].value


async def test_feeds_stop_at_fifty_entries_in_one_query(web):
    app = web.client.server.app
    await make_member(app, "ada")
    await add_community(app, "wound_care", "Wound Care")
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    async def queries_for(path: str) -> tuple[int, int]:
        app[POLICY].invalidate()  # each measured request reads the federation policy afresh
        statements.clear()
        _, parsed = await fetch_feed(web, path)
        return len(parsed.entries), len(statements)

    await publish(app, "ada", "wound_care", "First", "one")
    event.listen(app[ENGINE].sync_engine, "before_cursor_execute", count)
    try:
        few = await queries_for("/c/wound_care/threads.atom")
        event.remove(app[ENGINE].sync_engine, "before_cursor_execute", count)
        for n in range(54):
            await publish(app, "ada", "wound_care", f"Thread {n}", "body")
        event.listen(app[ENGINE].sync_engine, "before_cursor_execute", count)
        many = await queries_for("/c/wound_care/threads.atom")
        person = await queries_for("/u/ada/posts.atom")
    finally:
        event.remove(app[ENGINE].sync_engine, "before_cursor_execute", count)
    assert few[0] == 1 and many[0] == 50 and person[0] == 50
    assert many[1] == few[1]  # the cost does not grow with the entries
    select_posts = [s for s in statements if re.search(r"FROM posts\b", s)]
    assert len(select_posts) == 1  # the member's feed: one query for its entries


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/c/nowhere/threads.atom", 404, "no community named 'nowhere'"),
        ("/c/closed_ward/threads.atom", 404, "closed_ward is a private community"),
        ("/c/waiting/threads.atom", 404, "no community named 'waiting'"),
        ("/t/999999/replies.atom", 404, "no thread 999999"),
        ("/t/abc/replies.atom", 404, "no thread 'abc'"),
        ("/u/nobody/posts.atom", 404, "no member named 'nobody'"),
        ("/u/wound_care/posts.atom", 404, "no member named 'wound_care'"),
        ("/u/gone/posts.atom", 410, "the member 'gone' has left this Network"),
    ],
)
async def test_unknown_or_hidden_feeds_answer_with_a_reason(web, path, status, reason):
    app = web.client.server.app
    await build_world(app)
    await add_community(app, "waiting", "Waiting")
    await make_member(app, "gone")
    async with app[WRITE_SESSIONS]() as session:
        (await get_community(session, "waiting")).status = "pending"
        await remove_member(session, (await get_local_actor(session, "gone")).id, "remove")
        await session.commit()
    response = await web.client.get(path)
    assert response.status == status
    assert reason in (await response.json())["error"]


async def test_threads_nobody_may_read_have_no_feed(web):
    app = web.client.server.app
    world = await build_world(app)
    for root in (world.private_thread, world.removed_thread, world.reply):
        response = await web.client.get(f"/t/{root}/replies.atom")
        assert response.status == 404
        assert "that anyone may read" in (await response.json())["error"]


# --- discovery on the pages --------------------------------------------------------------------

ALTERNATE = re.compile(
    r'<link rel="alternate" type="application/atom\+xml" title="([^"]+)" href="([^"]+)">'
)


async def announced(web, page: str) -> list[str]:
    response = await web.client.get(page, headers={"Accept": HTML})
    assert response.status == 200
    return [href for _title, href in ALTERNATE.findall(await response.text())]


async def test_pages_announce_their_feeds_and_the_links_work(web):
    app = web.client.server.app
    world = await build_world(app)
    expected = {
        "/": [f"{BASE}/threads.atom", f"{BASE}/basecamps.atom"],
        "/basecamps": [f"{BASE}/basecamps.atom"],
        "/c/wound_care": [f"{BASE}/c/wound_care/threads.atom"],
        f"/t/{world.thread}": [f"{BASE}/t/{world.thread}/replies.atom"],
        "/u/ada": [f"{BASE}/u/ada/posts.atom"],
        # A private CoP's page and threads announce nothing: their feeds would be 404.
        "/c/closed_ward": [],
        f"/t/{world.removed_thread}": [],
    }
    for page, feeds in expected.items():
        assert await announced(web, page) == feeds, page
        for href in feeds:
            await fetch_feed(web, href.removeprefix(BASE))
    text = await (await web.client.get("/c/wound_care", headers={"Accept": HTML})).text()
    visible = f'href="{BASE}/c/wound_care/threads.atom" type="application/atom+xml"'
    assert visible in text  # a link people can see and copy, too
