"""Two copnet Networks on loopback: a member of B follows a CoP on A, and B archives A's harvest
page with its sources, then its Update; B's copy of the quoted post shows the page."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models.actors import create_local_actor
from models.base import utcnow
from models.communities import get_community
from models.harvest import HarvestPage
from models.harvest_queries import Wording
from models.harvest_sources import sources_of
from models.jobs import DONE, Job
from models.posts import Post
from server.appkeys import ENGINE, REMOTE, SESSIONS, URLS, WRITE_SESSIONS
from server.services.harvest import edit_page
from server.services.harvest_federation import PAGE_UPDATE
from server.services.harvesting import Target, harvest
from server.services.membership import join
from server.services.posts import publish_post
from server.workers.scheduler import SchedulerWorker
from tests.scenarios.test_two_instances import settle_all
from tests.support.instances import start_copnet


async def test_a_partner_copnet_archives_a_harvest_page_with_its_sources(
    aiohttp_server, database_url, database_factory, fake
):
    a = await start_copnet(aiohttp_server, database_url, fake, host="copnet.test")
    b = await start_copnet(aiohttp_server, database_factory(), fake, host="copnet-b.test")
    try:
        cop = await a.community("wound_care", "Wound Care")
        group = await b.app[REMOTE].get(cop)
        async with b.app[WRITE_SESSIONS].begin() as session:
            bea = await create_local_actor(session, "bea", "Person", display_name="Bea")
            await join(session, b.app[URLS], bea, group)
        await settle_all(a, b)

        async with a.app[WRITE_SESSIONS].begin() as session:
            community = await get_community(session, "wound_care")
            kim = await create_local_actor(session, "kim", "Person", display_name="Kim")
            await join(session, a.app[URLS], kim, community.actor)
        async with a.app[WRITE_SESSIONS].begin() as session:
            community = await get_community(session, "wound_care")
            post = await publish_post(
                session,
                a.app[URLS],
                author=kim,
                group=community.actor,
                community=community,
                title="Heel care",
                body_markdown="Float the heels on a pillow.",
                parent=None,
                now=utcnow(),
            )
        await settle_all(a, b)
        async with a.app[WRITE_SESSIONS].begin() as session:
            community = await get_community(session, "wound_care")
            page = await harvest(
                session,
                a.app[URLS],
                harvester_id=kim.id,
                posts=[await session.get(Post, post.id)],
                passage="",
                target=Target(community=community, new_title="Heels"),
                local_domain="copnet.test",
                now=utcnow(),
            )
            page_url = a.app[URLS].harvest_page(page.id)
        await settle_all(a, b)

        async with b.app[SESSIONS]() as session:
            copy = await session.scalar(select(HarvestPage).where(HarvestPage.ap_id == page_url))
            assert copy is not None, "B did not archive the page"
            assert copy.community_id == group.id and copy.title == "Heels"
            assert "Float the heels on a pillow." in copy.body
            [source] = await sources_of(session, copy.id)
            mirrored = await session.scalar(
                select(Post).where(Post.ap_id == f"{a.url}/p/{post.id}")
            )
        assert source.post_url == f"{a.url}/p/{post.id}"
        assert source.author_name.startswith("Kim (@kim@copnet.test)")
        assert mirrored is not None and source.post_id == mirrored.id
        async with b.client.get(f"{b.url}/h/{copy.id}") as response:
            html = await response.text()
        assert "Archived from" in html and "Float the heels on a pillow." in html
        async with b.client.get(f"{b.url}/t/{mirrored.id}") as response:
            assert f'<a href="/h/{copy.id}">Heels</a>' in await response.text()

        async with a.app[WRITE_SESSIONS].begin() as session:
            community = await get_community(session, "wound_care")
            original = await session.get(HarvestPage, page.id)
            await edit_page(
                session,
                a.app[URLS],
                community=community,
                page=original,
                base=1,
                author_id=kim.id,
                wording=Wording("Heels", "Offloading", original.body + "\n\nCheck daily."),
                note="",
                now=utcnow(),
            )
        later = utcnow() + timedelta(hours=1, minutes=1)
        worker = SchedulerWorker(
            a.app[ENGINE], a.app[WRITE_SESSIONS], a.app[URLS], clock=lambda: later
        )
        await worker.run_once()  # also runs the notification jobs the posts above queued
        async with a.app[SESSIONS]() as session:
            updates = list(await session.scalars(select(Job.state).where(Job.kind == PAGE_UPDATE)))
        assert updates == [DONE]
        await settle_all(a, b)
        async with b.app[SESSIONS]() as session:
            copy = await session.scalar(select(HarvestPage).where(HarvestPage.ap_id == page_url))
        assert copy.revision_number == 2 and copy.summary == "Offloading"
        assert copy.body.endswith("Check daily.")
    finally:
        await a.client.close()
        await b.client.close()
