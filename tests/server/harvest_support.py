"""A running copnet with a CoP, two of its members and an outsider, for the Harvest tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

import aiohttp
from sqlalchemy import select

from models.actors import Actor
from models.base import utcnow
from models.communities import CommunityModerator, get_community
from models.follows import upsert_follow
from models.harvest import HarvestPage
from models.posts import Post
from server.appkeys import SESSIONS, URLS, WRITE_SESSIONS
from server.services.posts import publish_post
from tests.server.test_auth import HTML, PASSWORD, Web, make_member, start_web
from tests.support.instances import add_community

PAGE_LINK = re.compile(r"/h/(\d+)$")


@dataclass
class HarvestSite:
    """One browser per person (each its own cookie jar)."""

    people: dict[str, Web]

    @property
    def app(self):
        return next(iter(self.people.values())).app

    def __getitem__(self, name: str) -> Web:
        return self.people[name]

    async def new_page(self, who: str, title: str, body: str, cop: str = "wound_care") -> int:
        web = self.people[who]
        token = await web.token(f"/c/{cop}/harvest/new")
        response = await web.post(
            f"/c/{cop}/harvest/new",
            {"title": title, "summary": "", "body": body, "note": "first"},
            token=token,
        )
        assert response.status == 303, await response.text()
        return int(PAGE_LINK.search(response.headers["Location"]).group(1))

    async def edit(self, who: str, page_id: int, body: str, *, base: int, note: str = ""):
        web = self.people[who]
        token = await web.token(f"/h/{page_id}")
        async with self.app[SESSIONS]() as session:
            title = (await session.get(HarvestPage, page_id)).title
        return await web.post(
            f"/h/{page_id}/edit",
            {"title": title, "summary": "", "body": body, "note": note, "base_revision": base},
            token=token,
        )

    async def page(self, page_id: int) -> HarvestPage:
        async with self.app[SESSIONS]() as session:
            return await session.get(HarvestPage, page_id)


async def actor_id(app, name: str) -> int:
    async with app[SESSIONS]() as session:
        return await session.scalar(select(Actor.id).where(Actor.local_name == name))


async def make_joined(app, name: str, cop: str, *, moderator: bool = False) -> None:
    """A new member of the Network who joined the CoP, perhaps one of its moderators."""
    await make_member(app, name)
    await join(app, name, cop, moderator=moderator)


async def join(app, name: str, cop: str, *, moderator: bool = False) -> None:
    """An existing member joins the CoP (an accepted follower), perhaps as a moderator."""
    member_id = await actor_id(app, name)
    async with app[WRITE_SESSIONS]() as session:
        community = await get_community(session, cop)
        await upsert_follow(
            session,
            followed_id=community.actor_id,
            follower_id=member_id,
            state="accepted",
            activity_ap_id=None,
        )
        if moderator:
            session.add(CommunityModerator(community_id=community.actor_id, actor_id=member_id))
        await session.commit()


async def start_site(aiohttp_server, aiohttp_client, database_url, **settings) -> HarvestSite:
    """sam (moderator) and kim are members of Wound Care; lee is not."""
    first = await start_web(aiohttp_server, aiohttp_client, database_url, **settings)
    app = first.app
    await add_community(app, "wound_care", "Wound Care", "Dressings and pressure care.")
    await make_joined(app, "sam", "wound_care", moderator=True)
    await make_joined(app, "kim", "wound_care")
    await make_member(app, "lee")
    people = {"sam": first}
    for name in ("kim", "lee", "visitor"):
        people[name] = await _second_browser(aiohttp_client, first)
    for name, web in people.items():
        if name != "visitor":
            response = await web.login(name, PASSWORD)
            assert response.status == 303, name
    return HarvestSite(people)


async def _second_browser(aiohttp_client, first: Web) -> Web:
    server = first.client.server
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[str(server.make_url("/"))])
    client = await aiohttp_client(server, cookie_jar=jar)
    return Web(client=client, clock=first.clock)


__all__ = ["HTML", "HarvestSite", "actor_id", "join", "make_joined", "start_site", "write_post"]


async def write_post(app, author: str, cop: str, body: str, parent_id: int | None = None) -> int:
    """A post by a local member, published as the website would (thread or reply)."""
    async with app[WRITE_SESSIONS]() as session:
        community = await get_community(session, cop)
        writer = await session.scalar(select(Actor).where(Actor.local_name == author))
        parent = await session.get(Post, parent_id) if parent_id else None
        post = await publish_post(
            session,
            app[URLS],
            author=writer,
            group=community.actor,
            community=community,
            title="" if parent else "Turning schedules",
            body_markdown=body,
            parent=parent,
            now=utcnow(),
        )
        await session.commit()
        return post.id
