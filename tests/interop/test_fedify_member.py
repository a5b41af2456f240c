"""A member on a Fedify-built microblog server follows a CoP, posts into it and replies.

member_server.mjs is a real Fedify federation (carol's home server, "hollo" in its NodeInfo) on
loopback; copnet runs over TLS beside it. Both sides sign and verify every POST with keys they
fetch from each other. copnet's workers do not run on their own in tests: `copnet.settle` runs
them whenever the test waits for Fedify to report something.
"""

from __future__ import annotations

import ssl

import aiohttp
import pytest
from sqlalchemy import select

from models.instances import Instance
from models.posts import Post
from server.appkeys import REMOTE, SESSIONS
from tests.interop.conftest import Tls
from tests.interop.node import NodeAgent, require_fedify
from tests.support.instances import add_community, free_port

pytestmark = pytest.mark.interop

AS2 = "application/activity+json"


async def get_as2(url: str, tls: Tls) -> dict:
    context = ssl.create_default_context(cafile=tls.cert_file)
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Accept": AS2}, ssl=context) as response,
    ):
        assert response.status == 200, f"GET {url}: {response.status} {await response.text()}"
        return await response.json(content_type=None)


async def test_fedify_member_follows_cop_posts_and_replies(start_copnet, node_env, tls):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward nurses talk.")
    cop = f"{copnet.url}/c/nursing"
    port = free_port()
    member = f"http://127.0.0.1:{port}"
    carol = f"{member}/users/carol"

    async with NodeAgent("member_server.mjs", str(port), env=node_env) as fedify:
        # carol follows the CoP; the Accept (of her Follow) comes back to her own inbox.
        await fedify.send({"cmd": "follow", "target": cop})
        follow = await fedify.expect("sent", explain=copnet.queues)
        assert follow["type"] == "Follow"
        assert follow["inbox"] == f"{cop}/inbox"
        accept = await fedify.expect("accept", step=copnet.settle, explain=copnet.queues)
        assert accept["actor"] == cop
        assert accept["object"] == follow["id"]
        assert accept["inbox"] == "carol"
        # copnet looked up carol's server in NodeInfo (to choose the Announce form) while it
        # processed the Follow; what it learnt is checked by the test below.
        async with copnet.app[SESSIONS]() as session:
            instance = await session.get(Instance, f"127.0.0.1:{port}")
        assert instance is not None and instance.nodeinfo_fetched_at is not None

        # carol posts a Note mentioning the CoP; the CoP boosts it with a plain Announce.
        await fedify.send({"cmd": "post", "cop": cop, "content": "Handover tips for nights?"})
        created = await fedify.expect("sent", explain=copnet.queues)
        assert created["type"] == "Create"
        assert created["inbox"] == f"{copnet.url}/inbox"
        note_id = created["object"]
        assert note_id.startswith(f"{carol}/notes/")
        announce = await fedify.expect("announce", step=copnet.settle, explain=copnet.queues)
        assert announce["actor"] == cop
        assert announce["object"] == note_id
        assert announce["embedded"] is False  # microblog software gets Announce{object: id}
        assert announce["inbox"] == "shared"
        async with copnet.app[SESSIONS]() as session:
            top = await session.scalar(select(Post).where(Post.ap_id == note_id))
        assert top is not None, await copnet.queues()
        assert top.thread_id is None
        assert top.title == "Handover tips for nights?"

        # carol replies to her own note, mentioning the CoP: it joins the thread.
        await fedify.send(
            {"cmd": "reply", "cop": cop, "inReplyTo": note_id, "content": "Also: fluid charts."}
        )
        reply = await fedify.expect("sent", explain=copnet.queues)
        assert reply["type"] == "Create"
        reply_id = reply["object"]
        await copnet.settle()
        context = await get_as2(f"{copnet.url}/t/{top.id}/context", tls)
        assert context["type"] == "OrderedCollection"
        assert context["totalItems"] == 2, await copnet.queues()
        page = await get_as2(f"{copnet.url}/t/{top.id}/context?page=1", tls)
        assert page["orderedItems"] == [note_id, reply_id], await copnet.queues()
        # Replies are not boosted to microblog followers (announce_replies_to_microblogs off).
        assert fedify.untaken("announce") == []
        assert fedify.untaken("inbox-error") == []


async def test_copnet_reads_the_fedify_member_servers_nodeinfo(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    port = free_port()
    async with NodeAgent("member_server.mjs", str(port), env=node_env):
        software = await copnet.app[REMOTE].software_for_url(f"http://127.0.0.1:{port}/users/carol")
    assert software == "hollo"
