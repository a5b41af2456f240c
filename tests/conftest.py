"""Fixtures shared by the whole suite: both databases, settings, running copnet apps."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.support.databases import PostgresUnavailable, SqliteDatabases, open_postgres

DATABASES = ("sqlite", "postgresql")
_LEGS_RUN = pytest.StashKey[set]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-databases",
        default="",
        help="comma-separated database legs (sqlite,postgresql) that must each run tests",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_LEGS_RUN] = set()
    # Outgoing fetches in tests talk to loopback peers.
    os.environ.setdefault("COPNET_ALLOW_PRIVATE_ADDRESSES", "true")


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """pytest-xdist: the legs a worker ran count for the whole run (checked by the controller)."""
    legs = getattr(node, "workeroutput", {}).get("database_legs", [])
    node.config.stash[_LEGS_RUN].update(legs)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    worker_output = getattr(session.config, "workeroutput", None)
    if worker_output is not None:  # an xdist worker: its controller decides
        worker_output["database_legs"] = sorted(session.config.stash[_LEGS_RUN])
        return
    required = [leg for leg in session.config.getoption("--require-databases").split(",") if leg]
    missing = [leg for leg in required if leg not in session.config.stash[_LEGS_RUN]]
    if missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = f"database legs required but not run: {', '.join(missing)}"
        if reporter is not None:
            reporter.write_line(f"ERROR: {message}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def _sqlite_databases():
    workdir = Path(tempfile.mkdtemp(prefix="copnet-sqlite-"))
    databases = SqliteDatabases(workdir)
    yield databases
    databases.close()


@pytest.fixture(scope="session")
def _postgresql_databases():
    try:
        databases = open_postgres()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield databases
    databases.close()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database URL; every test using it runs on SQLite and PostgreSQL."""
    kind = request.param
    databases = request.getfixturevalue(f"_{kind}_databases")
    url = databases.create()
    request.config.stash[_LEGS_RUN].add(kind)
    yield url
    databases.drop(url)


@pytest.fixture
def database_factory(database_url: str, request: pytest.FixtureRequest):
    """Extra databases of the same kind as `database_url` (for a second instance)."""
    kind = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    databases = request.getfixturevalue(f"_{kind}_databases")
    made: list[str] = []

    def make() -> str:
        url = databases.create()
        made.append(url)
        return url

    yield make
    for url in made:
        databases.drop(url)


@pytest.fixture
async def copnet(aiohttp_client, database_url):
    """An in-process copnet at https://copnet.test with a test client."""
    from server.app import create_app
    from tests.support.instances import settings_for

    app = create_app(settings_for(database_url))
    return await aiohttp_client(app)


@pytest.fixture
async def fake(aiohttp_server):
    """A fake fediverse of remote servers on one loopback port."""
    from tests.support.fakeremote import FakeFediverse

    return await FakeFediverse().start(aiohttp_server)


@pytest.fixture
async def network(aiohttp_server, database_url, fake):
    """copnet served over real TCP at http://copnet.test:PORT, next to the fake fediverse."""
    from tests.support.instances import start_copnet

    running = await start_copnet(aiohttp_server, database_url, fake, host="copnet.test")
    yield running
    await running.client.close()
