"""A member on a Fedify-built microblog server follows a CoP and receives its new harvest page
as a `Create` of the `Article` (and the plain Announce threads get), then one `Update` after the
page was revised, read through Fedify's own vocabulary (member_server.mjs)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.actors import create_local_actor
from models.base import utcnow
from models.communities import get_community
from models.harvest import HarvestPage
from models.harvest_queries import Wording
from server.appkeys import ENGINE, URLS, WRITE_SESSIONS
from server.services.harvest import edit_page, start_page
from server.services.membership import join
from server.workers.scheduler import SchedulerWorker
from tests.interop.node import NodeAgent, require_fedify
from tests.support.instances import add_community, free_port

pytestmark = pytest.mark.interop


async def test_fedify_member_receives_a_page_then_its_update(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward nurses talk.")
    cop = f"{copnet.url}/c/nursing"
    port = free_port()
    async with NodeAgent("member_server.mjs", str(port), env=node_env) as fedify:
        await fedify.send({"cmd": "follow", "target": cop})
        await fedify.expect("sent", explain=copnet.queues)
        await fedify.expect("accept", step=copnet.settle, explain=copnet.queues)

        async with copnet.app[WRITE_SESSIONS].begin() as session:
            community = await get_community(session, "nursing")
            kim = await create_local_actor(session, "kim", "Person", display_name="Kim")
            await join(session, copnet.app[URLS], kim, community.actor)
        async with copnet.app[WRITE_SESSIONS].begin() as session:
            community = await get_community(session, "nursing")
            page = await start_page(
                session,
                copnet.app[URLS],
                community=community,
                author_id=kim.id,
                wording=Wording("Night handovers", "What works", "Use SBAR at the bedside."),
                note="",
                now=utcnow(),
            )
        page_url = f"{copnet.url}/h/{page.id}"

        created = await fedify.expect("create", step=copnet.settle, explain=copnet.queues)
        assert created["actor"] == cop and created["object"] == page_url
        assert "Use SBAR at the bedside." in created["content"]
        announce = await fedify.expect("announce", step=copnet.settle, explain=copnet.queues)
        assert announce["actor"] == cop and announce["object"] == page_url
        assert announce["embedded"] is False

        async with copnet.app[WRITE_SESSIONS].begin() as session:
            community = await get_community(session, "nursing")
            stored = await session.get(HarvestPage, page.id)
            await edit_page(
                session,
                copnet.app[URLS],
                community=community,
                page=stored,
                base=1,
                author_id=kim.id,
                wording=Wording("Night handovers", "What works", "Use SBAR, then walk the ward."),
                note="",
                now=utcnow(),
            )
            sent_at = stored.announced_at
        later = sent_at + timedelta(hours=1, seconds=1)
        app = copnet.app
        worker = SchedulerWorker(app[ENGINE], app[WRITE_SESSIONS], app[URLS], clock=lambda: later)
        assert await worker.run_once() == 1
        updated = await fedify.expect("update", step=copnet.settle, explain=copnet.queues)
        assert updated["actor"] == cop and updated["object"] == page_url
        assert "walk the ward" in updated["content"]
