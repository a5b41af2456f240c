"""The admin page and the `copnet member` / `copnet admin` commands."""

from __future__ import annotations

import argparse
import io
import re

import pytest

from models import account_queries as accounts
from models import invite_queries, site_modes, web_sessions
from models.actors import NameTaken
from models.communities import get_community
from server.appkeys import SESSIONS, WRITE_SESSIONS
from server.cli.admin import add_admin_commands
from server.services import passwords
from tests.server.test_auth import (
    HTML,
    PASSWORD,
    fast_argon2,
    make_member,
    start_web,
)
from tests.support.instances import add_community, settings_for

CODE = re.compile(r'id="new-invite" class="copy" type="text" readonly value="([^"]+)"')


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url):
    return await start_web(aiohttp_server, aiohttp_client, database_url)


async def sign_in_as(web, name: str, *, admin: bool) -> None:
    await make_member(web.app, name, admin=admin)
    response = await web.login(name, PASSWORD)
    assert response.status == 303


async def test_visitors_are_sent_to_sign_in(web):
    response = await web.client.get("/admin", headers={"Accept": HTML}, allow_redirects=False)
    assert response.status == 302
    assert response.headers["Location"] == "/login?next=/admin"


async def test_members_who_are_not_admins_are_refused(web):
    await sign_in_as(web, "sam", admin=False)
    page = await web.client.get("/admin", headers={"Accept": HTML})
    assert page.status == 403
    assert page.content_type == "text/html"
    assert "Only the Network&#39;s admins can open this page." in await page.text()
    token = await web.token("/settings/profile")
    for path in ("/admin/settings", "/admin/invites", "/admin/communities/x/approve"):
        data = {"signup_mode": "invite", "cop_creation": "approval"}
        assert (await web.post(path, data, token=token)).status == 403, path
    async with web.app[SESSIONS]() as session:
        assert await site_modes.get_signup_mode(session) == "open"
        assert await invite_queries.count_unused_invites(session) == 0


async def test_admin_changes_who_may_join_and_start_cops(web):
    await sign_in_as(web, "ada", admin=True)
    page = await web.client.get("/admin", headers={"Accept": HTML})
    assert page.status == 200
    text = await page.text()
    assert 'id="signup-open" name="signup_mode" value="open" checked' in text
    assert '<label for="signup-invite">' in text
    token = await web.token("/admin")
    response = await web.post(
        "/admin/settings", {"signup_mode": "invite", "cop_creation": "approval"}, token=token
    )
    assert response.status == 303
    assert response.headers["Location"] == "/admin?done=settings"
    async with web.app[SESSIONS]() as session:
        assert await site_modes.get_signup_mode(session) == "invite"
        assert await site_modes.get_cop_creation(session) == "approval"
    again = await (await web.client.get("/admin?done=settings", headers={"Accept": HTML})).text()
    assert "Settings saved." in again
    assert 'value="invite" checked' in again and 'value="approval" checked' in again
    bad = await web.post(
        "/admin/settings", {"signup_mode": "closed", "cop_creation": "anyone"}, token=token
    )
    assert bad.status == 400


async def test_an_invitation_code_is_shown_once_and_lets_one_person_join(web):
    await sign_in_as(web, "ada", admin=True)
    async with web.app[WRITE_SESSIONS]() as session:
        await site_modes.set_signup_mode(session, "invite")
        await session.commit()
    token = await web.token("/admin")
    response = await web.post("/admin/invites", {}, token=token)
    assert response.status == 200
    code = CODE.search(await response.text()).group(1)
    later = await (await web.client.get("/admin", headers={"Accept": HTML})).text()
    assert code not in later
    assert "1 unused invitation." in later

    web.forget_cookies()
    assert (await web.signup("sam", invite=code)).status == 303
    web.forget_cookies()
    assert (await web.signup("robin", invite=code)).status == 400


async def test_admin_approves_a_pending_cop(web):
    await sign_in_as(web, "ada", admin=True)
    community = await add_community(web.app, "wound_care", "Wound care")
    async with web.app[WRITE_SESSIONS]() as session:
        row = await get_community(session, "wound_care")
        row.status = "pending"
        await session.commit()
    text = await (await web.client.get("/admin", headers={"Accept": HTML})).text()
    assert "Wound care" in text
    assert 'action="/admin/communities/wound_care/approve"' in text
    token = await web.token("/admin")
    response = await web.post("/admin/communities/wound_care/approve", {}, token=token)
    assert response.status == 303
    async with web.app[SESSIONS]() as session:
        assert (await get_community(session, "wound_care")).status == "active"
    assert community.actor.local_name == "wound_care"
    after = await (await web.client.get("/admin", headers={"Accept": HTML})).text()
    assert "None right now." in after
    again = await web.post("/admin/communities/wound_care/approve", {}, token=token)
    assert again.status == 404


# --- command line -----------------------------------------------------------------------------


@pytest.fixture
def settings(database_url):
    return settings_for(database_url, url="https://cops.example")


@pytest.fixture
def run(settings, capsys, monkeypatch):
    """Parse argv the way `copnet` does once the commands are registered, run the handler."""
    parser = argparse.ArgumentParser(prog="copnet")
    add_admin_commands(parser.add_subparsers(dest="command", required=True))

    def invoke(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        capsys.readouterr()
        args = parser.parse_args(list(argv))
        code = args.handler(settings, args)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


async def _member(settings, name):
    from server.cli.commands import open_session

    async with open_session(settings) as session:
        return await accounts.member_by_name(session, name)


def test_member_create_from_stdin_makes_an_admin_who_can_sign_in(run, settings):
    import asyncio

    code, out, _ = run(
        "member",
        "create",
        "ada",
        "--password-stdin",
        "--email",
        "Ada@Cops.example",
        "--admin",
        "--display-name",
        "Ada L.",
        stdin=PASSWORD + "\n",
    )
    assert code == 0
    assert out == "created admin @ada@cops.example: https://cops.example/u/ada\n"
    member = asyncio.run(_member(settings, "ada"))
    assert member.account.is_admin is True
    assert member.account.email == "ada@cops.example"
    assert member.actor.type == "Person" and member.actor.display_name == "Ada L."
    assert passwords.verify_password(member.account.password_hash, PASSWORD)


def test_member_create_with_a_password_argument(run, settings):
    import asyncio

    assert run("member", "create", "sam", "--password", PASSWORD)[0] == 0
    member = asyncio.run(_member(settings, "sam"))
    assert member.account.is_admin is False


def test_member_create_refuses_weak_passwords_and_taken_names(run):
    code, _, err = run("member", "create", "sam", "--password-stdin", stdin="short\n")
    assert code == 1
    assert err.startswith("copnet: error: Use at least 10 characters")
    assert run("member", "create", "sam", "--password", PASSWORD)[0] == 0
    # cli.main turns these into one-line errors, as for communities.
    with pytest.raises(NameTaken):
        run("member", "create", "sam", "--password", PASSWORD)
    code, _, err = run("member", "create", "x1", "--password", PASSWORD, "--email", "nope")
    assert code == 1 and "not an email address" in err


def test_member_create_needs_exactly_one_password_source(run):
    both = ["member", "create", "sam", "--password", "a" * 12, "--password-stdin"]
    for argv in (["member", "create", "sam"], both):
        with pytest.raises(SystemExit) as caught:
            run(*argv)
        assert caught.value.code == 2


def test_set_password_replaces_it_and_signs_the_member_out(run, settings):
    import asyncio

    assert run("member", "create", "sam", "--password", PASSWORD)[0] == 0

    async def open_a_session() -> str:
        from server.cli.commands import open_session

        async with open_session(settings) as session:
            member = await accounts.member_by_name(session, "sam")
            token, _ = await web_sessions.create_session(session, member.account.actor_id)
            await session.commit()
        return token

    token = asyncio.run(open_a_session())
    code, out, _ = run(
        "member", "set-password", "sam", "--password-stdin", stdin="a new long phrase\n"
    )
    assert code == 0
    assert out == "new password set for @sam@cops.example; signed out of 1 session(s)\n"
    member = asyncio.run(_member(settings, "sam"))
    assert passwords.verify_password(member.account.password_hash, "a new long phrase")
    assert not passwords.verify_password(member.account.password_hash, PASSWORD)

    async def still_signed_in() -> bool:
        from server.cli.commands import open_session

        async with open_session(settings) as session:
            return await web_sessions.session_by_token(session, token) is not None

    assert asyncio.run(still_signed_in()) is False
    code, _, err = run("member", "set-password", "nobody", "--password", PASSWORD)
    assert code == 1 and "no member named 'nobody'" in err
    assert run("member", "set-password", "sam", "--password", "short")[0] == 1


def test_set_admin_grants_and_revokes(run, settings):
    import asyncio

    assert run("member", "create", "sam", "--password", PASSWORD)[0] == 0
    assert run("member", "set-admin", "sam")[1] == "@sam@cops.example is now an admin\n"
    assert asyncio.run(_member(settings, "sam")).account.is_admin is True
    assert run("member", "set-admin", "sam", "--revoke")[0] == 0
    assert asyncio.run(_member(settings, "sam")).account.is_admin is False
    assert run("member", "set-admin", "nobody")[0] == 1


def test_signup_mode_prints_and_sets(run):
    assert run("admin", "signup-mode")[1] == "open\n"
    code, out, _ = run("admin", "signup-mode", "invite")
    assert code == 0 and out.startswith("sign-up mode: invite\n")
    assert run("admin", "signup-mode")[1] == "invite\n"
    with pytest.raises(SystemExit):
        run("admin", "signup-mode", "closed")


def test_cop_creation_prints_and_sets(run):
    assert run("admin", "cop-creation")[1] == "anyone\n"
    assert run("admin", "cop-creation", "approval")[0] == 0
    assert run("admin", "cop-creation")[1] == "approval\n"


def test_invite_prints_a_code_that_works_once(run, settings):
    import asyncio

    code, out, _ = run("admin", "invite")
    assert code == 0
    invite = out.strip()
    assert re.fullmatch(r"[a-z2-9]{4}(-[a-z2-9]{4}){3}", invite)
    assert run("member", "create", "sam", "--password", PASSWORD)[0] == 0

    async def redeem() -> list[bool]:
        from server.cli.commands import open_session

        async with open_session(settings) as session:
            member = await accounts.member_by_name(session, "sam")
            results = [
                await invite_queries.redeem_invite(session, invite, member.actor.id),
                await invite_queries.redeem_invite(session, invite, member.actor.id),
            ]
            await session.commit()
        return results

    assert asyncio.run(redeem()) == [True, False]


def test_admin_commands_run_through_the_copnet_cli(database_url, monkeypatch, capsys):
    from server.cli.main import main

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("COPNET_URL", "https://cops.example")
    assert main(["migrate"]) == 0
    assert main(["admin", "signup-mode", "invite"]) == 0
    assert main(["admin", "invite"]) == 0
    code = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(code) >= 8 and " " not in code
    assert main(["admin", "cop-creation", "approval"]) == 0
    capsys.readouterr()
    assert main(["admin", "signup-mode"]) == 0 and main(["admin", "cop-creation"]) == 0
    assert capsys.readouterr().out.split() == ["invite", "approval"]
