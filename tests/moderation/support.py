"""Moderation tests' helpers: signed-in members of a served copnet, a CoP with a moderator."""

from __future__ import annotations

import re

import aiohttp
from sqlalchemy import select

from federation.netguard import make_connector
from models import account_queries as accounts
from models.communities import CommunityModerator, get_community
from models.follows import upsert_follow
from models.moderation import ModerationAction
from server.appkeys import SESSIONS, WRITE_SESSIONS
from server.services import passwords
from tests.server.test_auth import PASSWORD
from tests.support.fakeremote import loopback_host_map

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"Accept": "text/html"}
AS2 = {"Accept": "application/activity+json"}
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


class Member:
    """A member signed in to a served copnet through its login form."""

    def __init__(self, network, name: str):
        self.network = network
        self.name = name
        self.client = aiohttp.ClientSession(
            connector=make_connector(allow_private=True, host_map=loopback_host_map()),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        )
        self.token = ""

    async def sign_in(self) -> Member:
        url = self.network.url
        page = await (await self.client.get(f"{url}/login", headers=HTML)).text()
        form = {"login": self.name, "password": PASSWORD, "csrf_token": TOKEN.search(page)[1]}
        response = await self.client.post(f"{url}/login", data=form, allow_redirects=False)
        assert response.status == 303, await response.text()
        home = await (await self.client.get(f"{url}/", headers=HTML)).text()
        self.token = TOKEN.search(home)[1]
        return self

    async def post(self, path: str, **fields) -> aiohttp.ClientResponse:
        data = {"csrf_token": self.token, **fields}
        response = await self.client.post(
            f"{self.network.url}{path}", data=data, allow_redirects=False
        )
        await response.read()
        return response

    async def page(self, path: str) -> tuple[int, str]:
        response = await self.client.get(f"{self.network.url}{path}", headers=HTML)
        return response.status, await response.text()

    async def close(self) -> None:
        await self.client.close()


async def member(network, name: str, *, admin: bool = False, joins: str | None = None) -> Member:
    """Create a member (a member of CoP `joins`, if given) and sign them in."""
    async with network.app[WRITE_SESSIONS].begin() as session:
        account = await accounts.create_account(
            session,
            name,
            passwords.hash_password(PASSWORD),
            display_name=name.title(),
            is_admin=admin,
        )
        if joins:
            community = await get_community(session, joins)
            await upsert_follow(
                session,
                followed_id=community.actor_id,
                follower_id=account.actor_id,
                state="accepted",
                activity_ap_id=None,
            )
    signed = await Member(network, name).sign_in()
    network.members = [*getattr(network, "members", []), signed]
    return signed


async def make_moderator(network, community_name: str, member_name: str) -> None:
    async with network.app[WRITE_SESSIONS].begin() as session:
        community = await get_community(session, community_name)
        account = await accounts.member_by_name(session, member_name)
        session.add(CommunityModerator(community_id=community.actor_id, actor_id=account.actor.id))


async def log_entries(network) -> list[ModerationAction]:
    async with network.app[SESSIONS]() as session:
        return list(await session.scalars(select(ModerationAction).order_by(ModerationAction.id)))


async def follow(network, fake, actor, cop: str) -> None:
    activity = {"id": fake.new_id(actor), "type": "Follow", "actor": actor.id, "object": cop}
    response = await fake.send(actor, f"{cop}/inbox", activity, session=network.client)
    assert response.status == 202
    await network.settle()


async def remote_post(network, fake, author, cop: str, *, in_reply_to: str | None = None) -> dict:
    """A Create of a public Note by `author` into the CoP (a thread, or a reply)."""
    note_id = fake.new_id(author, "statuses")
    note = {
        "id": note_id,
        "type": "Note",
        "attributedTo": author.id,
        "to": [PUBLIC],
        "cc": [cop],
        "content": "<p>Handover tips?</p>",
        "tag": [{"type": "Mention", "href": cop, "name": "@nursing"}],
        "published": "2026-11-26T09:00:00Z",
        "inReplyTo": in_reply_to,
    }
    fake.serve(note_id, note)
    create = {"id": note_id + "/activity", "type": "Create", "actor": author.id, "object": note}
    response = await fake.send(author, f"{network.url}/inbox", create, session=network.client)
    assert response.status == 202
    await network.settle()
    return create
