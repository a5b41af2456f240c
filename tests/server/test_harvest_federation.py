"""Harvest pages on the fediverse, on SQLite and PostgreSQL: the Article, announced like a thread
in both forms, and Updates at most once an hour per page through the durable job queue.

Wire shapes: Mastodon shows an Article as its name and a link (mastodon
app/lib/activitypub/activity.rb, CONVERTED_TYPES) and takes the first `attributedTo` as the
account (app/services/activitypub/fetch_remote_status_service.rb); Lemmy reads PeerTube's
`attributedTo` list, the first Person as creator and the Group as community (LemmyNet/lemmy
crates/apub/src/protocol/objects/page.rs, AttributedTo::Peertube).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import jobs
from models.actors import Actor
from models.communities import get_community
from models.follows import upsert_follow
from models.instances import Instance
from models.outgoing import Delivery, OutgoingActivity
from server.appkeys import ENGINE, SESSIONS, URLS, WRITE_SESSIONS
from server.services.harvest_federation import PAGE_UPDATE, UPDATE_INTERVAL
from server.workers.scheduler import SchedulerWorker
from tests.server.harvest_support import HTML, PAGE_LINK, start_site, write_post

BASE = "https://copnet.test"
COP = f"{BASE}/c/wound_care"
AS2 = {"Accept": "application/activity+json"}


@pytest.fixture
async def site(aiohttp_server, aiohttp_client, database_url):
    site = await start_site(aiohttp_server, aiohttp_client, database_url)
    async with site.app[WRITE_SESSIONS]() as session:
        session.add(Instance(domain="lemmy.example", software="lemmy"))
        community = await get_community(session, "wound_care")
        for username, domain in (("ana", "lemmy.example"), ("bo", "mastodon.example")):
            follower = Actor(
                type="Person",
                ap_id=f"https://{domain}/u/{username}",
                username=username,
                domain=domain,
                inbox_url=f"https://{domain}/u/{username}/inbox",
                shared_inbox_url=f"https://{domain}/inbox",
                public_key_pem="-",
            )
            session.add(follower)
            await session.flush()
            await upsert_follow(
                session,
                followed_id=community.actor_id,
                follower_id=follower.id,
                state="accepted",
                activity_ap_id=f"https://{domain}/follows/{username}",
            )
        await session.commit()
    return site


async def announces(site, kind: str = "Announce") -> list[tuple[dict, list[str]]]:
    """Every activity of a kind the CoP queued, oldest first, with the inboxes it goes to."""
    found = []
    async with site.app[SESSIONS]() as session:
        query = (
            select(OutgoingActivity)
            .where(OutgoingActivity.type == kind)
            .order_by(OutgoingActivity.id)
        )
        for activity in await session.scalars(query):
            inboxes = await session.scalars(
                select(Delivery.inbox_url).where(Delivery.activity_id == activity.id)
            )
            found.append((json.loads(activity.body), sorted(inboxes)))
    return found


async def harvested_page(site) -> tuple[int, int]:
    root = await write_post(site.app, "sam", "wound_care", "How often do you turn patients?")
    reply = await write_post(site.app, "kim", "wound_care", "Every two hours on our ward.", root)
    web = site["kim"]
    token = await web.token(f"/p/{reply}/harvest")
    form = {"csrf_token": token, "post": str(reply), "new_title": "Turning", "page_id": ""}
    form.update(community="wound_care", passage="")
    response = await web.client.post(
        f"/p/{reply}/harvest", data=form, headers={"Accept": HTML}, allow_redirects=False
    )
    assert response.status == 303, await response.text()
    return int(PAGE_LINK.search(response.headers["Location"]).group(1)), reply


async def test_a_new_page_is_an_article_announced_in_both_forms(site):
    page_id, reply = await harvested_page(site)
    page_url = f"{BASE}/h/{page_id}"
    sent = await announces(site)
    embedded = [
        (doc, inboxes)
        for doc, inboxes in sent
        if isinstance(doc["object"], dict) and doc["object"]["object"]["id"] == page_url
    ]
    plain = [(doc, inboxes) for doc, inboxes in sent if doc["object"] == page_url]
    [(announce, lemmy_inboxes)] = embedded
    create = announce["object"]
    assert (announce["actor"], create["type"], create["actor"]) == (COP, "Create", COP)
    assert lemmy_inboxes == ["https://lemmy.example/inbox"]
    assert plain == [(plain[0][0], ["https://mastodon.example/inbox"])]
    article = create["object"]
    assert article["type"] == "Article" and article["name"] == "Turning"
    assert article["attributedTo"] == [
        {"type": "Group", "id": COP},
        {"type": "Person", "id": f"{BASE}/u/kim"},
    ]
    assert article["tag"] == [
        {
            "type": "Link",
            "href": f"{BASE}/p/{reply}",
            "rel": ["cite"],
            "mediaType": "text/html",
            "name": article["tag"][0]["name"],
        }
    ]
    assert article["tag"][0]["name"].startswith("Kim (@kim@copnet.test) · Wound Care · ")
    assert "<blockquote>" in article["content"] and "Every two hours" in article["content"]
    assert "https://www.w3.org/ns/activitystreams#Public" in article["to"]
    direct = [
        (doc, inboxes) for doc, inboxes in await announces(site, "Create") if doc["actor"] == COP
    ]
    assert direct == [(create, ["https://mastodon.example/inbox"])]  # from the author itself
    response = await site["visitor"].client.get(f"/h/{page_id}", headers=AS2)
    assert response.status == 200
    served = await response.json()
    assert served["id"] == article["id"] and served["tag"] == article["tag"]


async def test_busy_editing_sends_one_update_an_hour(site):
    page_id = await site.new_page("kim", "Falls", "First.")
    before = len(await announces(site))
    for base, text in ((1, "Second."), (2, "Third."), (3, "Fourth.")):
        assert (await site.edit("kim", page_id, text, base=base)).status == 303
    assert len(await announces(site)) == before  # nothing yet: the page was sent just now
    page = await site.page(page_id)
    async with site.app[SESSIONS]() as session:
        job = await jobs.get_job(session, f"{PAGE_UPDATE}:{page_id}")
        pending = list(await session.scalars(select(jobs.Job).where(jobs.Job.kind == PAGE_UPDATE)))
    assert len(pending) == 1 and job.state == jobs.PENDING
    assert job.run_at == page.announced_at + UPDATE_INTERVAL

    early = page.announced_at + timedelta(minutes=30)
    assert await scheduler(site, early).run_once() == 0  # not due
    due = page.announced_at + UPDATE_INTERVAL + timedelta(seconds=1)
    assert await scheduler(site, due).run_once() == 1
    updates = [
        doc["object"]
        for doc, _ in (await announces(site))[before:]
        if isinstance(doc["object"], dict)
    ]
    assert [(u["type"], u["object"]["content"]) for u in updates] == [
        ("Update", "<p>Fourth.</p>\n")
    ]
    direct = [
        (doc["object"]["content"], inboxes) for doc, inboxes in await announces(site, "Update")
    ]
    assert direct == [("<p>Fourth.</p>\n", ["https://mastodon.example/inbox"])]
    page = await site.page(page_id)
    assert (page.announced_revision, page.announced_at) == (4, due)

    assert (await site.edit("kim", page_id, "Fifth.", base=4)).status == 303
    async with site.app[SESSIONS]() as session:
        job = await jobs.get_job(session, f"{PAGE_UPDATE}:{page_id}")
    assert job.state == jobs.PENDING and job.run_at == due + UPDATE_INTERVAL


async def test_an_update_is_sent_at_once_when_the_last_was_over_an_hour_ago(site):
    page_id = await site.new_page("kim", "Falls", "First.")
    async with site.app[WRITE_SESSIONS]() as session:
        page = await session.get(type(await site.page(page_id)), page_id)
        page.announced_at = page.announced_at - timedelta(hours=2)
        await session.commit()
    assert (await site.edit("kim", page_id, "Second.", base=1)).status == 303
    page = await site.page(page_id)
    async with site.app[SESSIONS]() as session:
        job = await jobs.get_job(session, f"{PAGE_UPDATE}:{page_id}")
    assert job.run_at == page.updated_at


async def test_a_private_cops_page_is_addressed_to_its_followers_only(site):
    async with site.app[WRITE_SESSIONS]() as session:
        (await get_community(session, "wound_care")).manually_approves_followers = True
        await session.commit()
    before = len(await announces(site))
    await site.new_page("kim", "Inside", "Members only.")
    sent = (await announces(site))[before:]
    article = next(doc["object"]["object"] for doc, _ in sent if isinstance(doc["object"], dict))
    assert article["to"] == [f"{COP}/followers"]
    assert all("https://www.w3.org/ns/activitystreams#Public" not in doc["to"] for doc, _ in sent)


async def test_a_withdrawn_source_leaves_the_articles_tags(site):
    page_id, reply = await harvested_page(site)
    token = await site["kim"].token(f"/p/{reply}/delete")
    await site["kim"].post(f"/p/{reply}/delete", {"confirm": "yes"}, token=token)
    served = await (await site["visitor"].client.get(f"/h/{page_id}", headers=AS2)).json()
    assert served["tag"] == []
    assert "Every two hours" not in json.dumps(served)
    assert "A source was withdrawn by its author." in served["content"]


def scheduler(site, now) -> SchedulerWorker:
    app = site.app
    return SchedulerWorker(app[ENGINE], app[WRITE_SESSIONS], app[URLS], clock=lambda: now)


async def test_retiring_a_page_is_sent_as_an_update_saying_so(site):
    page_id = await site.new_page("kim", "Old guidance", "Text.")
    token = await site["kim"].token(f"/h/{page_id}")
    response = await site["kim"].post(f"/h/{page_id}/retire", {"action": "retire"}, token=token)
    assert response.status == 303
    page = await site.page(page_id)
    due = page.announced_at + UPDATE_INTERVAL + timedelta(seconds=1)
    assert await scheduler(site, due).run_once() == 1
    [(update, inboxes)] = await announces(site, "Update")
    assert update["object"]["retired"] is True and update["object"]["id"] == f"{BASE}/h/{page_id}"
    assert inboxes == ["https://mastodon.example/inbox"]
    assert await scheduler(site, due + UPDATE_INTERVAL).run_once() == 0  # nothing new to send
