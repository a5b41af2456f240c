"""Shared steps of the notification tests: members signing in and out of one browser-like
client, running the scheduler that makes notifications, and reading what each member got."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import account_queries as accounts
from models.actors import Actor
from models.notifications import Notification
from models.posts import Post
from server.appkeys import SCHEDULER, SESSIONS, WRITE_SESSIONS
from server.services import passwords
from tests.server.test_auth import HTML, PASSWORD

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
BELL = re.compile(r'<span class="bell-count" id="bell-count">(\d+)</span>')


async def make_members(app, *names: str, admin: tuple[str, ...] = ()) -> dict[str, int]:
    """Accounts created directly; returns name -> actor id."""
    ids = {}
    async with app[WRITE_SESSIONS]() as session:
        for name in names:
            account = await accounts.create_account(
                session,
                name,
                passwords.hash_password(PASSWORD),
                display_name=name.title(),
                is_admin=name in admin,
            )
            ids[name] = account.actor_id
        await session.commit()
    return ids


async def act_as(web, name: str) -> str:
    """Sign the client in as `name` (signing out whoever it was); returns a CSRF token."""
    web.forget_cookies()
    page = await (await web.client.get("/login", headers={"Accept": HTML})).text()
    form = {"login": name, "password": PASSWORD, "csrf_token": TOKEN.search(page).group(1)}
    response = await web.client.post("/login", data=form, allow_redirects=False)
    assert response.status == 303, await response.text()
    home = await (await web.client.get("/", headers={"Accept": HTML})).text()
    return TOKEN.search(home).group(1)


async def submit(web, path: str, token: str, **fields):
    """POST a form with the CSRF token, not following the redirect."""
    return await web.client.post(
        path, data={"csrf_token": token, **fields}, headers={"Accept": HTML}, allow_redirects=False
    )


async def run_jobs(app) -> int:
    """Run the scheduler until no job is due; returns how many ran."""
    ran = 0
    while handled := await app[SCHEDULER].run_once():
        ran += handled
    return ran


async def notifications_of(app, name: str) -> list[tuple[str, str | None, int | None]]:
    """(kind, actor's name, post id) of each notification a member has, oldest first."""
    async with app[SESSIONS]() as session:
        account = await session.scalar(select(Actor.id).where(Actor.local_name == name))
        rows = await session.scalars(
            select(Notification).where(Notification.account_id == account).order_by(Notification.id)
        )
        found = []
        for row in rows:
            actor = await session.get(Actor, row.actor_id) if row.actor_id else None
            who = (actor.local_name or actor.username) if actor is not None else None
            found.append((row.kind, who, row.post_id))
        return found


async def notification_ids(app, name: str) -> list[int]:
    """The ids of a member's notifications, oldest first."""
    async with app[SESSIONS]() as session:
        account = await session.scalar(select(Actor.id).where(Actor.local_name == name))
        query = select(Notification.id).where(Notification.account_id == account)
        return list(await session.scalars(query.order_by(Notification.id)))


async def newest_post(app) -> Post:
    async with app[SESSIONS]() as session:
        return await session.scalar(select(Post).order_by(Post.id.desc()).limit(1))


async def bell(web) -> int:
    """The unread count the page header shows (0 when there is no count)."""
    page = await (await web.client.get("/", headers={"Accept": HTML})).text()
    found = BELL.search(page)
    return int(found.group(1)) if found else 0
