"""`copnet member delete` and `copnet member list`."""

from __future__ import annotations

import argparse
import asyncio
import io
import json

import pytest
from sqlalchemy import select

from models import account_queries as accounts
from models.outgoing import OutgoingActivity
from server.cli.admin import add_admin_commands
from server.cli.commands import open_session
from tests.server.test_auth import PASSWORD, fast_argon2
from tests.support.instances import settings_for


@pytest.fixture
def settings(database_url, monkeypatch):
    fast_argon2(monkeypatch)
    return settings_for(database_url, url="https://cops.example")


@pytest.fixture
def run(settings, capsys, monkeypatch):
    """`copnet ARGS` as the admin commands parse and run them: (exit code, stdout, stderr)."""
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
    async with open_session(settings) as session:
        return await accounts.member_by_name(session, name)


async def _deletes(settings):
    async with open_session(settings) as session:
        return [
            json.loads(row.body)
            for row in await session.scalars(
                select(OutgoingActivity).where(OutgoingActivity.type == "Delete")
            )
        ]


def test_member_list_shows_everyone_with_last_seen(run):
    assert run("member", "create", "sam", "--password", PASSWORD, "--admin")[0] == 0
    assert run("member", "create", "kim", "--password", PASSWORD, "--display-name", "Kim")[0] == 0
    code, out, _ = run("member", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "name\trole\tjoined\tlast seen\tdisplay name"
    assert lines[1].startswith("kim\tmember\t") and lines[1].endswith("\tnever\tKim")
    assert lines[2].startswith("sam\tadmin\t")


def test_member_delete_needs_yes_off_a_terminal_and_a_real_member(run, settings):
    assert run("member", "create", "sam", "--password", PASSWORD)[0] == 0
    code, _, err = run("member", "delete", "sam", stdin="")
    assert code == 1 and "--yes" in err
    assert asyncio.run(_member(settings, "sam")) is not None
    code, _, err = run("member", "delete", "nobody", "--yes")
    assert code == 1 and err == "copnet: error: no member named 'nobody'\n"


def test_member_delete_removes_the_account_and_keeps_the_name(run, settings):
    assert run("member", "create", "sam", "--password", PASSWORD)[0] == 0
    code, out, _ = run("member", "delete", "@Sam", "--yes", "--content", "anonymise")
    assert code == 0
    assert out.startswith("deleted @sam@cops.example: 0 post(s) and 0 document(s)")
    assert asyncio.run(_member(settings, "sam")) is None
    # Nobody knew them, so nothing needs telling; the name stays taken.
    assert asyncio.run(_deletes(settings)) == []
    assert "sam" not in run("member", "list")[1]
