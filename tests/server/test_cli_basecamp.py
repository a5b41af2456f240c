"""`copnet basecamp create|update|cancel|list` against a real database."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from models.database import create_engine, session_factory
from models.event_queries import get_event, hosts_of
from server.cli.basecamp import add_basecamp_commands
from server.services.network_actor import network_actor
from tests.support.instances import settings_for


@pytest.fixture
def settings(database_url):
    return settings_for(database_url, url="https://cops.example")


@pytest.fixture
def run(settings, capsys):
    """Parse argv the way `copnet` will once the command is registered, and run the handler."""
    parser = argparse.ArgumentParser(prog="copnet")
    add_basecamp_commands(parser.add_subparsers(dest="command", required=True))

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        args = parser.parse_args(["basecamp", *argv])
        code = args.handler(settings, args)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def in_db(settings, query):
    async def go():
        engine = create_engine(settings.database_url)
        try:
            async with session_factory(engine)() as session:
                return await query(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@pytest.fixture
def cops(settings):
    async def make(session):
        from models.communities import create_community

        await create_community(session, "nursing", title="Nursing Practice")
        await create_community(session, "dementia", title="Dementia Care")
        await session.commit()

    in_db(settings, make)


def test_create_list_update_and_cancel(run, settings, cops):
    code, out, err = run(
        "create",
        "--name",
        "Basecamp Leeds",
        "--start",
        "2027-03-27 10:00",
        "--end",
        "2027-03-27 16:00",
        "--place",
        "Leeds Town Hall",
        "--street",
        "The Headrow",
        "--locality",
        "Leeds",
        "--postcode",
        "LS1 3AD",
        "--lat",
        "53.80004",
        "--lon",
        "-1.54921",
        "--capacity",
        "80",
        "--host",
        "nursing",
        "--host",
        "dementia",
    )
    assert (code, err) == (0, "")
    assert out == "created Basecamp 1: https://cops.example/b/1\n"

    async def check(session):
        event = await get_event(session, 1)
        hosts = (await hosts_of(session, [1]))[1]
        network = await network_actor(session)
        return event, [h.actor.local_name for h in hosts], network

    event, hosts, network = in_db(settings, check)
    assert (event.capacity, event.timezone, event.postal_code) == (80, "Europe/London", "LS1 3AD")
    assert sorted(hosts) == ["dementia", "nursing"]
    assert network.actor.display_name == "copnet Network"
    code, out, _ = run("list")
    assert out.splitlines() == [
        "1\t2027-03-27 10:00Z\tCONFIRMED\t0\tBasecamp Leeds\tdementia,nursing"
    ]

    code, out, _ = run("update", "1", "--start", "2027-03-29 10:00", "--end", "2027-03-29 16:00")
    assert (code, out) == (0, "updated Basecamp 1 (sequence 1)\n")
    event, hosts, _ = in_db(settings, check)
    assert event.starts_at.isoformat() == "2027-03-29T09:00:00+00:00"  # BST
    assert (event.place_name, sorted(hosts)) == ("Leeds Town Hall", ["dementia", "nursing"])

    assert run("cancel", "1")[1] == "cancelled Basecamp 1\n"
    assert run("list")[1].split("\t")[2] == "CANCELLED"
    code, _, err = run("update", "1", "--name", "Again")
    assert (code, err) == (1, "copnet: error: Basecamp 1 was cancelled\n")


def test_mistakes_are_reported_one_per_line(run, cops):
    code, out, err = run("create", "--name", "", "--start", "tomorrow", "--host", "nobody")
    assert code == 1 and out == ""
    assert "copnet: error: name: Give the Basecamp a name." in err.splitlines()
    assert "copnet: error: start: Write it as YYYY-MM-DD HH:MM." in err.splitlines()
    code, _, err = run(
        "create",
        "--name",
        "X",
        "--start",
        "2027-01-01 10:00",
        "--end",
        "2027-01-01 11:00",
        "--online-url",
        "https://meet.example/x",
        "--host",
        "nobody",
    )
    assert (code, err) == (1, "copnet: error: hosts: No community named nobody.\n")
    assert run("cancel", "42")[2] == "copnet: error: no Basecamp 42\n"
    assert run("list", "--past")[1] == "no past Basecamps\n"
