"""`/healthz` and `/readyz`: liveness without the database, readiness with it."""

from __future__ import annotations

import socket

from sqlalchemy import text

from models.database import create_engine
from models.migrate import head_revision
from server.appkeys import ENGINE
from server.ops.health import unready_reason


async def test_healthz_answers_ok_without_cookies(copnet):
    response = await copnet.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


async def test_readyz_is_ready_on_a_migrated_database(copnet):
    response = await copnet.get("/readyz")
    assert response.status == 200, await response.text()
    assert await response.json() == {"status": "ready"}
    assert "Set-Cookie" not in response.headers


async def test_readyz_is_503_when_the_schema_is_behind(copnet):
    engine = copnet.app[ENGINE]
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0004'"))
    response = await copnet.get("/readyz")
    assert response.status == 503
    body = await response.json()
    assert body["status"] == "unavailable"
    assert "revision 0004" in body["reason"] and head_revision() in body["reason"]
    assert "copnet migrate" in body["reason"]
    assert (await copnet.get("/healthz")).status == 200  # alive, though not ready


async def test_readyz_is_503_when_the_tables_are_gone(copnet):
    async with copnet.app[ENGINE].begin() as connection:
        await connection.execute(text("DELETE FROM alembic_version"))
    response = await copnet.get("/readyz")
    assert response.status == 503
    assert "no copnet tables" in (await response.json())["reason"]


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_an_unreachable_postgresql_is_not_ready():
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/copnet")
    try:
        reason = await unready_reason(engine)
    finally:
        await engine.dispose()
    assert reason is not None and reason.startswith("the database is unreachable")


async def test_an_unreadable_sqlite_file_is_not_ready(tmp_path):
    garbage = tmp_path / "not-a-database.sqlite3"
    garbage.write_bytes(b"this is not an SQLite file" * 100)
    engine = create_engine(f"sqlite+aiosqlite:///{garbage}")
    try:
        reason = await unready_reason(engine)
    finally:
        await engine.dispose()
    assert reason is not None and "unreachable" in reason


async def test_health_endpoints_work_when_workers_are_off(aiohttp_client, database_url):
    from server.app import create_app
    from tests.support.instances import settings_for

    settings = settings_for(database_url)
    assert settings.run_workers is False
    client = await aiohttp_client(create_app(settings))
    assert (await client.get("/healthz")).status == 200
    assert (await client.get("/readyz")).status == 200


async def test_readyz_names_a_revision_this_copnet_does_not_know(copnet):
    async with copnet.app[ENGINE].begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    response = await copnet.get("/readyz")
    assert response.status == 503
    assert "revision f00d, which this copnet does not know" in (await response.json())["reason"]
