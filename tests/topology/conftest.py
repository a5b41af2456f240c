"""Fixtures of the topology test: an empty PostgreSQL database and the running topology."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from tests.interop.node import require_fedify
from tests.topology.stack import Stack, caddy_command, start_stack


@pytest.fixture
def empty_postgres_database(_postgresql_databases) -> str:
    """A new, empty database (no tables: `copnet migrate` creates them) on the test server."""
    server_url = _postgresql_databases.server_url
    name = f"copnet_topology_{uuid.uuid4().hex[:12]}"

    def admin(statement) -> None:
        with psycopg.connect(server_url, autocommit=True) as connection:
            connection.execute(statement)

    admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield server_url.rsplit("/", 1)[0] + "/" + name
    admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
async def stack(tmp_path, empty_postgres_database) -> Stack:
    require_fedify()  # before minutes of start-up are spent on a run that cannot pass
    caddy_command()
    running = await start_stack(tmp_path, empty_postgres_database)
    try:
        yield running
    finally:
        running.services.stop_all()
        # Shown by pytest when the test fails.
        print(running.services.logs())
