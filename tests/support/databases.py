"""Throwaway databases for tests: SQLite files and PostgreSQL databases, migrated once per run."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import socket
import tempfile
import uuid
from contextlib import suppress
from pathlib import Path

import psycopg
from psycopg import sql

from models.database import create_engine
from models.migrate import upgrade

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVER_VARIABLE = "COPNET_TEST_POSTGRES_URL"


class PostgresUnavailable(RuntimeError):
    """Neither a running server nor PostgreSQL binaries to start one."""


def migrate_url(url: str) -> None:
    """Apply every migration to the database at `url`."""

    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


class SqliteDatabases:
    """Hands out copies of one migrated SQLite file."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.template = workdir / "template.sqlite3"
        migrate_url(f"sqlite+aiosqlite:///{self.template}")

    def create(self) -> str:
        """A new migrated database; returns its SQLAlchemy URL."""
        path = self.workdir / f"{uuid.uuid4().hex}.sqlite3"
        shutil.copyfile(self.template, path)
        return f"sqlite+aiosqlite:///{path}"

    def drop(self, url: str) -> None:
        """Delete a database made by create()."""
        path = Path(url.removeprefix("sqlite+aiosqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            with suppress(FileNotFoundError):
                Path(str(path) + suffix).unlink()

    def close(self) -> None:
        """Remove the template."""
        self.drop(f"sqlite+aiosqlite:///{self.template}")


class PostgresDatabases:
    """Clones of one migrated template database on a real PostgreSQL server."""

    def __init__(self, server_url: str, cluster=None):
        self.server_url = server_url
        self.cluster = cluster
        self.prefix = f"copnet_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_template"
        self.created: set[str] = set()
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.template)))
        migrate_url(self._url(self.template))

    def _admin(self, statement) -> None:
        with psycopg.connect(self.server_url, autocommit=True) as connection:
            connection.execute(statement)

    def _url(self, database: str) -> str:
        base = self.server_url.rsplit("/", 1)[0]
        return base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + database

    def create(self) -> str:
        """A new migrated database cloned from the template; returns its URL."""
        name = f"{self.prefix}_{uuid.uuid4().hex[:10]}"
        self._admin(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(self.template)
            )
        )
        self.created.add(name)
        return self._url(name)

    def drop(self, url: str) -> None:
        """Drop a database made by create(), even if connections linger."""
        name = url.rsplit("/", 1)[1]
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        self.created.discard(name)

    def close(self) -> None:
        """Drop every database of this run and stop a cluster we started."""
        for name in list(self.created):
            self.drop(self._url(name))
        self._admin(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.template))
        )
        if self.cluster is not None:
            self.cluster.stop()


def server_answers(url: str) -> bool:
    """True if a PostgreSQL server accepts a connection at `url`."""
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def start_throwaway_cluster():
    """Start a temporary cluster from installed PostgreSQL binaries (pytest-postgresql)."""
    pg_ctl = shutil.which("pg_ctl") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)), None
    )
    if pg_ctl is None:
        raise PostgresUnavailable(
            "no PostgreSQL server answers and no PostgreSQL binaries were found: "
            "install PostgreSQL (Debian: apt-get install postgresql) or set "
            f"{SERVER_VARIABLE} to a server"
        )
    from pytest_postgresql.executor import PostgreSQLExecutor

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    datadir = Path(tempfile.mkdtemp(prefix="copnet-pg-"))
    executor = PostgreSQLExecutor(
        executable=pg_ctl,
        host="127.0.0.1",
        port=port,
        datadir=str(datadir / "data"),
        unixsocketdir=str(datadir),
        logfile=str(datadir / "log"),
        startparams="-w",
        dbname="postgres",
        user="postgres",
        password="",
        options="",
        postgres_options="",
    )
    executor.start()
    return executor, f"postgresql://postgres@127.0.0.1:{port}/postgres"


def open_postgres() -> PostgresDatabases:
    """Template databases on the configured server, or on a throwaway cluster."""
    url = os.environ.get(SERVER_VARIABLE, DEFAULT_SERVER)
    if server_answers(url):
        return PostgresDatabases(url)
    cluster, cluster_url = start_throwaway_cluster()
    return PostgresDatabases(cluster_url, cluster=cluster)
