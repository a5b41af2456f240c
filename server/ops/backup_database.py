"""Saving and restoring the database itself: pg_dump/pg_restore, or SQLite's online backup API."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import inspect, select, table
from sqlalchemy.engine import make_url

import models.all  # noqa: F401  (every table in the metadata)
from models.base import Base
from models.database import create_engine, is_sqlite
from models.migrate import alembic_config, current_revision
from server.ops.backup_manifest import BackupError

POSTGRES_FILE = "database.dump"
SQLITE_FILE = "database.sqlite3"
CLIENT_PACKAGE = "postgresql-client"


def database_kind(database_url: str) -> str:
    """`sqlite` or `postgresql`, as the manifest records it."""
    return "sqlite" if is_sqlite(database_url) else "postgresql"


def database_file(kind: str) -> str:
    """The name of the database's file inside a backup directory."""
    return SQLITE_FILE if kind == "sqlite" else POSTGRES_FILE


def describe(database_url: str) -> str:
    """The database for progress lines, without its password."""
    url = make_url(database_url)
    if is_sqlite(database_url):
        return f"the SQLite database {url.database}"
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    return f"the PostgreSQL database {url.database} on {where}"


# ---- PostgreSQL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresConnection:
    """How pg_dump and pg_restore reach the database: arguments and environment."""

    arguments: tuple[str, ...]
    environment: dict[str, str]


def postgres_connection(database_url: str) -> PostgresConnection:
    """libpq options from DATABASE_URL; the password travels in PGPASSWORD, never in argv."""
    url = make_url(database_url)
    arguments = ["--no-password", f"--dbname={url.database}"]
    host = url.host or url.query.get("host")
    if isinstance(host, str) and host:
        arguments.append(f"--host={host}")
    if url.port:
        arguments.append(f"--port={url.port}")
    if url.username:
        arguments.append(f"--username={url.username}")
    environment = dict(os.environ)
    environment.setdefault("PGCONNECT_TIMEOUT", "10")
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str) and ssl:
        environment["PGSSLMODE"] = ssl
    return PostgresConnection(tuple(arguments), environment)


def dump_postgres(database_url: str, target: Path) -> None:
    """pg_dump in custom format into `target`."""
    connection = postgres_connection(database_url)
    _run_client(
        "pg_dump", ["--format=custom", f"--file={target}", *connection.arguments], connection
    )


def restore_postgres(database_url: str, dump: Path) -> None:
    """pg_restore a custom-format dump into the DATABASE_URL database, replacing what is there.

    One transaction: if anything fails, the database is left as it was.
    """
    connection = postgres_connection(database_url)
    options = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
    _run_client("pg_restore", [*options, *connection.arguments, str(dump)], connection)


def require_client(program: str) -> None:
    """Fail before anything is touched when pg_dump or pg_restore is missing."""
    if shutil.which(program) is None:
        raise _not_installed(program)


def _not_installed(program: str) -> BackupError:
    return BackupError(
        f"{program} is not installed: install the Debian package {CLIENT_PACKAGE} "
        "(the same major version as the PostgreSQL server, or newer)"
    )


def _run_client(program: str, arguments: list[str], connection: PostgresConnection) -> None:
    try:
        # No shell: the arguments come from DATABASE_URL and reach the program as they are.
        finished = subprocess.run(  # noqa: S603
            [program, *arguments],
            env=connection.environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise _not_installed(program) from None
    if finished.returncode != 0:
        raise BackupError(f"{program} failed: {_client_message(program, finished.stderr)}")


def _client_message(program: str, stderr: str) -> str:
    lines = [
        line.strip().removeprefix(f"{program}: ").removeprefix("error: ")
        for line in stderr.splitlines()
    ]
    message = "; ".join(line for line in lines if line) or "no message"
    if "version mismatch" in message:
        message += f" (install a {CLIENT_PACKAGE} at least as new as the server)"
    return message


# ---- SQLite -----------------------------------------------------------------------------------


def sqlite_path(database_url: str) -> Path:
    """The file of an SQLite DATABASE_URL."""
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database: nothing to back up")
    return Path(database)


def copy_sqlite(source: Path, target: Path, *, source_read_only: bool = False) -> None:
    """Copy a live SQLite database page by page with the online backup API.

    Safe while copnet runs: readers and writers wait for each step, never see half a copy.
    """
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    uri = f"file:{source}?mode=ro" if source_read_only else f"file:{source}"
    try:
        reader = sqlite3.connect(uri, uri=True, timeout=30)
        try:
            writer = sqlite3.connect(target, timeout=30)
            try:
                reader.backup(writer)
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.Error as exc:
        raise BackupError(f"cannot copy {source} to {target}: {exc}") from None


def make_self_contained(path: Path) -> None:
    """Leave a copied SQLite file in rollback-journal mode: one file, no -wal beside it."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


def sqlite_revision(path: Path) -> str | None:
    """The Alembic revision stored in an SQLite file (None when it has none)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    finally:
        connection.close()
    return row[0] if row else None


# ---- either database --------------------------------------------------------------------------


async def revision_of(database_url: str) -> str | None:
    """The Alembic revision the database is at."""
    engine = create_engine(database_url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def contents_of(database_url: str) -> str | None:
    """What makes the database non-empty (an Alembic revision, tables with rows), or None."""
    engine = create_engine(database_url)
    try:
        revision = await current_revision(engine)
        if revision is not None:
            return f"is at revision {revision}"
        async with engine.connect() as connection:
            existing = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
            for name in sorted(existing & set(Base.metadata.tables)):
                if (await connection.execute(select(1).select_from(table(name)).limit(1))).first():
                    return f"has rows in its {name} table"
    finally:
        await engine.dispose()
    return None


def is_known_revision(revision: str) -> bool:
    """True when this copnet ships the migration `revision` (a backup is not from the future)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except CommandError:
        return False
