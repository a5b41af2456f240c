"""A Fedify member's post gets a reply from a copnet member on the web, who then edits and
deletes it: the Fedify server's inbox receives Create (addressed to its member: cc and a
Mention, as Mastodon and GoToSocial need to notify), Update and Delete, each by the author.

member_server.mjs is a real Fedify federation ("hollo" in its NodeInfo, so copnet treats it as
microblog software); it parses what it receives with Fedify's vocabulary and reports it.
"""

from __future__ import annotations

import re
import ssl

import aiohttp
import pytest
from sqlalchemy import select

from models import account_queries as accounts
from models.actors import Actor
from models.communities import get_community
from models.posts import Post
from server.appkeys import SESSIONS, URLS, WRITE_SESSIONS
from server.services import passwords
from server.services.membership import join
from tests.interop.node import NodeAgent, require_fedify
from tests.server.test_auth import PASSWORD, fast_argon2
from tests.support.instances import add_community, free_port

pytestmark = pytest.mark.interop

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def signed_in_member(copnet, name: str, browser: aiohttp.ClientSession) -> str:
    """A member of `nursing`, signed in through the login form; returns a CSRF token."""
    async with copnet.app[WRITE_SESSIONS]() as session:
        account = await accounts.create_account(session, name, passwords.hash_password(PASSWORD))
        community = await get_community(session, "nursing")
        actor = await session.get(Actor, account.actor_id)
        await join(session, copnet.app[URLS], actor, community.actor)
        await session.commit()
    login = await (await browser.get(f"{copnet.url}/login")).text()
    form = {"login": name, "password": PASSWORD, "csrf_token": TOKEN.search(login)[1]}
    await browser.post(f"{copnet.url}/login", data=form)
    return TOKEN.search(await (await browser.get(f"{copnet.url}/")).text())[1]


async def test_web_reply_edit_and_delete_reach_the_fedify_author(
    start_copnet, node_env, tls, monkeypatch
):
    require_fedify()
    fast_argon2(monkeypatch)
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward nurses talk.")
    cop = f"{copnet.url}/c/nursing"
    port = free_port()
    carol = f"http://127.0.0.1:{port}/users/carol"
    context = ssl.create_default_context(cafile=tls.cert_file)

    async with (
        NodeAgent("member_server.mjs", str(port), env=node_env) as fedify,
        aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=context),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # cookies for 127.0.0.1
        ) as browser,
    ):
        await fedify.send({"cmd": "post", "cop": cop, "content": "Handover tips for nights?"})
        created = await fedify.expect("sent", explain=copnet.queues)
        note_id = created["object"]
        await copnet.settle()
        async with copnet.app[SESSIONS]() as session:
            top = await session.scalar(select(Post).where(Post.ap_id == note_id))
        assert top is not None, await copnet.queues()

        token = await signed_in_member(copnet, "nadia", browser)
        response = await browser.post(
            f"{copnet.url}/t/{top.id}/reply",
            data={"csrf_token": token, "parent": str(top.id), "body": "A printed checklist."},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        nadia = f"{copnet.url}/u/nadia"
        reply = await fedify.expect("create", step=copnet.settle, explain=copnet.queues)
        assert reply["actor"] == nadia
        assert reply["inReplyTo"] == note_id
        assert carol in reply["cc"]
        assert carol in reply["mentions"]
        assert "@<span>carol</span>" in reply["content"]
        assert "A printed checklist." in reply["content"]
        reply_id = reply["object"]
        post_id = reply_id.rsplit("/", 1)[1]

        response = await browser.post(
            f"{copnet.url}/p/{post_id}/edit",
            data={"csrf_token": token, "body": "A printed checklist, signed by both nurses."},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        update = await fedify.expect("update", step=copnet.settle, explain=copnet.queues)
        assert update["actor"] == nadia and update["object"] == reply_id
        assert "signed by both nurses" in update["content"]
        assert carol in update["cc"]

        response = await browser.post(
            f"{copnet.url}/p/{post_id}/delete",
            data={"csrf_token": token, "confirm": "yes"},
            allow_redirects=False,
        )
        assert response.status == 303, await response.text()
        delete = await fedify.expect("delete", step=copnet.settle, explain=copnet.queues)
        assert delete["actor"] == nadia and delete["object"] == reply_id
        assert fedify.untaken("inbox-error") == []
