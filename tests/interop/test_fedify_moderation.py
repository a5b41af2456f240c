"""A moderator removes a Fedify member's post: the removal reaches the member's own server.

member_server.mjs is a real Fedify federation (carol's home server). The CoP Announces the
moderator's `Delete` (with the reason in `summary`) as Lemmy does
(crates/apub/src/activities/deletion/ and community/announce.rs) and also delivers it to the
author's server, which receives it signed and verifies it with keys fetched from copnet.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import account_queries as accounts
from models.base import utcnow
from models.communities import CommunityModerator, get_community
from models.posts import Post
from models.reports import Report
from server.appkeys import SESSIONS, URLS, WRITE_SESSIONS
from server.services import moderation
from tests.interop.node import NodeAgent, require_fedify
from tests.interop.test_fedify_member import get_as2
from tests.support.instances import add_community, free_port

pytestmark = pytest.mark.interop


async def test_a_fedify_members_post_removed_by_a_moderator_reaches_their_server(
    start_copnet, node_env, tls
):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward nurses talk.")
    async with copnet.app[WRITE_SESSIONS].begin() as session:
        mona = await accounts.create_account(session, "mona", "x", display_name="Mona")
        community = await get_community(session, "nursing")
        session.add(CommunityModerator(community_id=community.actor_id, actor_id=mona.actor_id))
    cop = f"{copnet.url}/c/nursing"
    port = free_port()

    async with NodeAgent("member_server.mjs", str(port), env=node_env) as fedify:
        await fedify.send({"cmd": "follow", "target": cop})
        await fedify.expect("sent", explain=copnet.queues)
        await fedify.expect("accept", step=copnet.settle, explain=copnet.queues)
        await fedify.send({"cmd": "post", "cop": cop, "content": "Buy cheap watches"})
        created = await fedify.expect("sent", explain=copnet.queues)
        note_id = created["object"]
        boost = await fedify.expect("announce", step=copnet.settle, explain=copnet.queues)
        assert boost["object"] == note_id

        async with copnet.app[WRITE_SESSIONS].begin() as session:
            community = await get_community(session, "nursing")
            post = await session.scalar(select(Post).where(Post.ap_id == note_id))
            await moderation.remove_post(
                session, copnet.app[URLS], community, mona.actor_id, post, "spam", utcnow()
            )
        removal = await fedify.expect("announce", step=copnet.settle, explain=copnet.queues)
        assert removal["actor"] == cop
        assert removal["embedded"] is True
        delete = await get_as2(removal["object"], tls)
        assert delete["type"] == "Delete"
        assert delete["object"] == note_id
        assert delete["summary"] == "spam"
        assert delete["actor"] == f"{copnet.url}/u/mona"
        assert fedify.untaken("inbox-error") == []
    async with copnet.app[SESSIONS]() as session:
        assert (await session.scalar(select(Post).where(Post.ap_id == note_id))).is_removed


async def test_a_fedify_peers_flag_shows_up_as_a_report(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward nurses talk.")
    cop = f"{copnet.url}/c/nursing"
    port = free_port()
    async with NodeAgent("member_server.mjs", str(port), env=node_env) as fedify:
        await fedify.send({"cmd": "follow", "target": cop})
        await fedify.expect("sent", explain=copnet.queues)
        await fedify.expect("accept", step=copnet.settle, explain=copnet.queues)
        await fedify.send({"cmd": "post", "cop": cop, "content": "A thread"})
        note_id = (await fedify.expect("sent", explain=copnet.queues))["object"]
        await fedify.expect("announce", step=copnet.settle, explain=copnet.queues)
        missing = f"{copnet.url}/p/987654"
        await fedify.send(
            {
                "cmd": "flag",
                "target": f"{copnet.url}/actor",
                "objects": [note_id, missing],
                "content": "please look",
            }
        )
        sent = await fedify.expect("sent", explain=copnet.queues)
        assert sent["type"] == "Flag"
        await copnet.settle()
    async with copnet.app[SESSIONS]() as session:
        found = list(await session.scalars(select(Report).order_by(Report.id)))
    assert [(r.state, r.target_ap_id) for r in found] == [("open", note_id), ("ignored", missing)]
    assert found[0].reason == "please look"
