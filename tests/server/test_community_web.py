"""CoPs on the website: start one, join, post, reply, share, and who may do what."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import account_queries as accounts
from models import site_modes
from models.communities import CommunityModerator, get_community
from models.policy import SiteSetting
from models.posts import Post
from server.appkeys import SESSIONS, WRITE_SESSIONS
from server.services import passwords
from tests.server.test_auth import PASSWORD, fast_argon2, start_web

HTML = "text/html"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url):
    return await start_web(aiohttp_server, aiohttp_client, database_url)


async def sign_in(web, name: str, *, admin: bool = False) -> str:
    """Create a member, sign in through the form, return a CSRF token for later forms."""
    async with web.client.app[WRITE_SESSIONS]() as session:
        await accounts.create_account(
            session,
            name,
            passwords.hash_password(PASSWORD),
            display_name=name.title(),
            is_admin=admin,
        )
        await session.commit()
    page = await (await web.client.get("/login", headers={"Accept": HTML})).text()
    form = {"login": name, "password": PASSWORD, "csrf_token": TOKEN.search(page).group(1)}
    response = await web.client.post("/login", data=form, allow_redirects=False)
    assert response.status == 303
    home = await (await web.client.get("/", headers={"Accept": HTML})).text()
    return TOKEN.search(home).group(1)


async def post_form(web, path: str, token: str, **fields):
    return await web.client.post(path, data={"csrf_token": token, **fields}, allow_redirects=False)


async def test_member_starts_a_cop_and_becomes_its_moderator_and_member(web):
    token = await sign_in(web, "nadia")
    response = await post_form(
        web,
        "/communities/new",
        token,
        name="wound_care",
        title="Wound Care",
        summary="Tissue *viability*",
    )
    assert response.status == 303 and response.headers["Location"] == "/c/wound_care"
    page = await (await web.client.get("/c/wound_care", headers={"Accept": HTML})).text()
    assert "Wound Care" in page and "Leave" in page and "Start a thread" in page
    async with web.client.app[SESSIONS]() as session:
        community = await get_community(session, "wound_care")
        moderators = list(await session.scalars(select(CommunityModerator.actor_id)))
        founder = await accounts.member_by_name(session, "nadia")
    assert community.status == "active"
    assert moderators == [founder.actor.id]


async def test_bad_cop_names_are_explained_on_the_form(web):
    token = await sign_in(web, "nadia")
    response = await post_form(web, "/communities/new", token, name="Bad Name", title="X")
    assert response.status == 400
    assert "invalid name" in await response.text()


async def test_visitors_are_sent_to_sign_in(web):
    response = await web.client.get("/communities/new", allow_redirects=False)
    assert response.status in (302, 303)
    assert response.headers["Location"].startswith("/login")


async def test_approval_mode_keeps_a_new_cop_pending_until_an_admin_approves(web):
    async with web.client.app[WRITE_SESSIONS]() as session:
        await site_modes.set_cop_creation(session, "approval")
        await session.commit()
    assert await status_of_a_new_cop(web, "pending_cop", "Pending") == "pending"
    home = await (await web.client.get("/", headers={"Accept": HTML})).text()
    assert "Pending" not in home


async def test_an_unknown_stored_creation_mode_means_approval_on_the_web_too(web):
    # The one rule (models/site_modes.py): a value copnet does not know is the stricter choice.
    async with web.client.app[WRITE_SESSIONS]() as session:
        session.add(SiteSetting(key=site_modes.COP_CREATION_KEY, value="members-only"))
        await session.commit()
    assert await status_of_a_new_cop(web, "unsure_cop", "Unsure") == "pending"


async def status_of_a_new_cop(web, name: str, title: str) -> str:
    """Nadia, not an admin, starts a CoP on the web; its status once created."""
    token = await sign_in(web, "nadia")
    await post_form(web, "/communities/new", token, name=name, title=title)
    async with web.client.app[SESSIONS]() as session:
        community = await get_community(session, name)
    return community.status


async def test_join_post_reply_and_leave(web):
    token = await sign_in(web, "nadia")
    await post_form(web, "/communities/new", token, name="nursing", title="Nursing")
    other = await sign_in(web, "tom")  # the client now holds Tom's session
    refused = await post_form(web, "/c/nursing/threads", other, title="Hi", body="Hello")
    assert refused.status == 403
    assert (await post_form(web, "/c/nursing/join", other)).status == 303
    created = await post_form(web, "/c/nursing/threads", other, title="Hi", body="Hello **all**")
    assert created.status == 303
    thread_path = created.headers["Location"]
    thread_id = int(thread_path.rsplit("/", 1)[1])
    replied = await post_form(web, f"{thread_path}/reply", other, parent=str(thread_id), body="Me")
    assert replied.status == 303
    page = await (await web.client.get(thread_path, headers={"Accept": HTML})).text()
    assert "Hello <strong>all</strong>" in page and "Me" in page
    async with web.client.app[SESSIONS]() as session:
        replies = list(await session.scalars(select(Post).where(Post.thread_id == thread_id)))
    assert [reply.depth for reply in replies] == [1]
    # Leaving asks first: the button's POST shows a page, only its "Yes" leaves.
    asked = await post_form(web, "/c/nursing/leave", other)
    assert asked.status == 200
    asked_page = await asked.text()
    assert "Leave this community?" in asked_page and 'name="confirm" value="yes"' in asked_page
    still = await post_form(web, "/c/nursing/threads", other, title="Still", body="here")
    assert still.status == 303
    assert (await post_form(web, "/c/nursing/leave", other, confirm="yes")).status == 303
    again = await post_form(web, "/c/nursing/threads", other, title="Again", body="x")
    assert again.status == 403


async def test_a_thread_shared_into_another_cop_links_back(web):
    token = await sign_in(web, "nadia")
    for name in ("nursing", "dementia"):
        await post_form(web, "/communities/new", token, name=name, title=name.title())
    created = await post_form(web, "/c/nursing/threads", token, title="Music helps", body="Yes")
    original = created.headers["Location"]
    shared = await post_form(web, f"{original}/share", token, community="dementia", note="See")
    assert shared.status == 303
    page = await (await web.client.get(shared.headers["Location"], headers={"Accept": HTML})).text()
    assert "Music helps" in page and original in page
    async with web.client.app[SESSIONS]() as session:
        copy = await session.scalar(select(Post).where(Post.shared_from_id.is_not(None)))
    assert copy.shared_from_id == int(original.rsplit("/", 1)[1])


async def test_form_without_csrf_token_is_refused(web):
    await sign_in(web, "nadia")
    response = await web.client.post(
        "/communities/new", data={"name": "x", "title": "X"}, allow_redirects=False
    )
    assert response.status == 403
