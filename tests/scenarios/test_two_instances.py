"""Two copnet Networks federating over loopback, as partner organisations would."""

from __future__ import annotations

from sqlalchemy import select

from models.actors import create_local_actor
from models.base import utcnow
from models.follows import Follow
from models.posts import Post
from models.received import ReceivedActivity
from server.appkeys import REMOTE, SESSIONS, URLS, WRITE_SESSIONS
from server.services.membership import join
from server.services.posts import publish_post
from tests.support.instances import start_copnet


async def settle_all(*instances, rounds: int = 20) -> None:
    """Run every instance's queues until none has work left."""
    from server.appkeys import DELIVERY, INTAKE

    for _ in range(rounds):
        handled = 0
        for instance in instances:
            handled += await instance.app[INTAKE].run_once()
            handled += await instance.app[DELIVERY].run_once()
        if not handled:
            return
    raise AssertionError("the instances did not settle")


async def test_member_of_b_joins_cop_on_a_posts_and_b_followers_get_the_announce(
    aiohttp_server, database_url, database_factory, fake
):
    a = await start_copnet(aiohttp_server, database_url, fake, host="copnet.test")
    b = await start_copnet(aiohttp_server, database_factory(), fake, host="copnet-b.test")
    try:
        cop = await a.community("nursing", "Nursing Practice")
        group = await b.app[REMOTE].get(cop)
        async with b.app[WRITE_SESSIONS].begin() as session:
            bea = await create_local_actor(session, "bea", "Person", display_name="Bea")
            bo = await create_local_actor(session, "bo", "Person", display_name="Bo")
            for member in (bea, bo):
                await join(session, b.app[URLS], member, group)
        await settle_all(a, b)
        async with b.app[SESSIONS]() as session:
            states = set(await session.scalars(select(Follow.state)))
        assert states == {"accepted"}

        # Bea posts into the CoP on A from her own Network.
        async with b.app[WRITE_SESSIONS].begin() as session:
            post = await publish_post(
                session,
                b.app[URLS],
                author=bea,
                group=group,
                community=None,
                title="Falls prevention at home",
                body_markdown="Our checklist, shared.",
                parent=None,
                now=utcnow(),
            )
        await settle_all(a, b)
        note_id = f"{b.url}/p/{post.id}"
        async with a.app[SESSIONS]() as session:
            archived = await session.scalar(select(Post).where(Post.ap_id == note_id))
        assert archived is not None and archived.title == "Falls prevention at home"
        async with a.client.get(f"{a.url}/t/{archived.id}") as response:
            assert "Falls prevention at home" in await response.text()

        # Someone on Mastodon posts in the CoP: Bo's Network receives A's Announce and archives it.
        alice = fake.actor("mastodon.test", "alice")
        note = {
            "id": fake.new_id(alice, "statuses"),
            "type": "Note",
            "attributedTo": alice.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [cop],
            "content": "<p>Hip protectors: worth it?</p>",
            "tag": [{"type": "Mention", "href": cop}],
        }
        fake.serve(note["id"], note)
        create = {
            "id": note["id"] + "/activity",
            "type": "Create",
            "actor": alice.id,
            "object": note,
        }
        await fake.send(alice, f"{cop}/inbox", create, session=a.client)
        await settle_all(a, b)
        async with b.app[SESSIONS]() as session:
            announces = list(
                await session.scalars(
                    select(ReceivedActivity).where(ReceivedActivity.type == "Announce")
                )
            )
            mirrored = await session.scalar(select(Post).where(Post.ap_id == note["id"]))
        assert {row.actor_ap_id for row in announces} == {cop}
        assert all(row.state in ("done", "ignored") for row in announces), [
            (row.state, row.last_error) for row in announces
        ]
        assert mirrored is not None and mirrored.community_id == group.id
    finally:
        await a.client.close()
        await b.client.close()


async def test_member_joins_a_partner_cop_from_the_website_by_its_address(
    aiohttp_server, database_url, database_factory, fake, monkeypatch
):
    import re

    from models import account_queries as accounts
    from server.services import passwords
    from tests.server.test_auth import PASSWORD, fast_argon2

    fast_argon2(monkeypatch)
    a = await start_copnet(aiohttp_server, database_url, fake, host="copnet.test")
    b = await start_copnet(aiohttp_server, database_factory(), fake, host="copnet-b.test")
    try:
        await a.community("nursing", "Nursing Practice")
        async with b.app[WRITE_SESSIONS]() as session:
            await accounts.create_account(session, "bea", passwords.hash_password(PASSWORD))
            await session.commit()
        token = re.compile(r'name="csrf_token" value="([^"]+)"')
        login = await (await b.client.get(f"{b.url}/login")).text()
        form = {"login": "bea", "password": PASSWORD, "csrf_token": token.search(login)[1]}
        await b.client.post(f"{b.url}/login", data=form)
        home = await (await b.client.get(f"{b.url}/")).text()
        handle = "@nursing@" + a.url.removeprefix("http://")
        response = await b.client.post(
            f"{b.url}/communities/follow",
            data={"address": handle, "csrf_token": token.search(home)[1]},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        await settle_all(a, b)
        home = await (await b.client.get(f"{b.url}/")).text()
        assert "Nursing Practice" in home and "waiting for them" not in home
        async with b.app[SESSIONS]() as session:
            assert set(await session.scalars(select(Follow.state))) == {"accepted"}
    finally:
        await a.client.close()
        await b.client.close()
