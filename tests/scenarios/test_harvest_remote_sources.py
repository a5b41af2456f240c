"""A post from the fediverse, harvested here: when its author edits it with an `Update` the
quote is marked changed; when they `Delete` it the quote's text is dropped (signed, over
loopback, through the inbox and the intake worker)."""

from __future__ import annotations

from sqlalchemy import select

from models.actors import Actor
from models.communities import get_community
from models.harvest import SOURCE_CHANGED, SOURCE_WITHDRAWN, PageSource
from models.harvest_queries import Wording
from models.posts import Post
from server.appkeys import SESSIONS, URLS, WRITE_SESSIONS
from server.services.harvest import start_page
from server.services.harvesting import Target, harvest
from tests.scenarios.test_own_words import PUBLIC, archived, member, remote_thread


async def source_row(network) -> PageSource:
    async with network.app[SESSIONS]() as session:
        return await session.scalar(select(PageSource))


async def test_a_remote_authors_edit_marks_the_quote_and_a_delete_withdraws_it(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice", software="mastodon")
    note_id = await remote_thread(network, fake, cop, alice, text="Float the heels on a pillow")
    kim = await member(network, "kim")
    await kim.client.close()
    async with network.app[WRITE_SESSIONS].begin() as session:
        community = await get_community(session, "nursing")
        writer = await session.scalar(select(Actor).where(Actor.local_name == "kim"))
        page = await start_page(
            session,
            network.app[URLS],
            community=community,
            author_id=writer.id,
            wording=Wording("Heels", "", "Intro."),
            note="",
            now=(await archived(network, note_id)).published,
        )
        post = await session.scalar(select(Post).where(Post.ap_id == note_id))
        await harvest(
            session,
            network.app[URLS],
            harvester_id=writer.id,
            posts=[post],
            passage="",
            target=Target(community=community, page=page),
            local_domain="copnet.test",
            now=post.published,
        )
    source = await source_row(network)
    assert (
        source.author_handle.startswith("@alice@mastodon.test")
        and "Float the heels" in source.quote
    )

    edited = {
        "id": note_id,
        "type": "Note",
        "attributedTo": alice.id,
        "to": [PUBLIC],
        "cc": [cop],
        "content": "<p>Float the heels, and check them daily</p>",
        "tag": [{"type": "Mention", "href": cop}],
        "updated": "2026-12-01T10:00:00Z",
    }
    update = {"id": fake.new_id(alice), "type": "Update", "actor": alice.id, "object": edited}
    assert (await fake.send(alice, f"{cop}/inbox", update, session=network.client)).status == 202
    await network.settle()
    source = await source_row(network)
    assert source.state == SOURCE_CHANGED and "Float the heels on a pillow" in source.quote

    delete = {"id": fake.new_id(alice), "type": "Delete", "actor": alice.id, "object": note_id}
    assert (await fake.send(alice, f"{cop}/inbox", delete, session=network.client)).status == 202
    await network.settle()
    source = await source_row(network)
    assert (source.state, source.quote) == (SOURCE_WITHDRAWN, "")
