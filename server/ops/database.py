"""One-line explanations of why the database cannot be used, naming what to change."""

from __future__ import annotations

import asyncio
import errno
import functools
import socket
import sqlite3
import threading
from collections.abc import Awaitable
from typing import TypeVar

import asyncpg
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from models.migrate import alembic_config, head_revision

FIX_URL = "fix DATABASE_URL"
_AIOSQLITE_THREAD = "(_connection_worker_thread)"
T = TypeVar("T")


async def settled(work: Awaitable[T]) -> T:
    """Await `work`; if it fails, first let SQLite driver threads report back to this loop.

    aiosqlite closes a connection that failed to open on its own thread and then calls back
    into the event loop; if `asyncio.run` has closed the loop by then, that thread prints a
    traceback under the one-line error.
    """
    try:
        return await work
    except BaseException:
        threads = [t for t in threading.enumerate() if t.name.endswith(_AIOSQLITE_THREAD)]
        if threads:
            await asyncio.to_thread(_join, threads, 2.0)
        raise


def _join(threads: list[threading.Thread], seconds: float) -> None:
    for thread in threads:
        thread.join(seconds / len(threads))


@functools.cache
def _known_revisions() -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return frozenset(revision.revision for revision in script.walk_revisions())


@functools.cache
def _head() -> str:
    return head_revision()


def schema_problem(revision: str | None) -> str | None:
    """What is wrong with a database at `revision` for this code, or None if it is current."""
    if revision == _head():
        return None
    if revision is None:
        return "the database has no copnet tables: run `copnet migrate`"
    if revision not in _known_revisions():
        return (
            f"the database is at revision {revision}, which this copnet does not know "
            "(a newer copnet migrated it?): run that copnet version or restore a backup"
        )
    return (
        f"the database is at revision {revision}, this copnet needs {_head()}: run `copnet migrate`"
    )


def database_problem(exc: BaseException, database_url: str) -> str:
    """Why the database at `database_url` failed with `exc`, and what to do about it."""
    url = make_url(database_url)
    cause = _root(exc)
    if url.get_backend_name() == "sqlite":
        return _sqlite_problem(cause, url.database or "")
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    if isinstance(cause, socket.gaierror):
        return f"cannot resolve the database host {url.host!r}: {FIX_URL}"
    if isinstance(cause, TimeoutError):
        return f"PostgreSQL at {where} did not answer in time: check it is running, or {FIX_URL}"
    if isinstance(cause, asyncpg.InvalidCatalogNameError):
        return (
            f"PostgreSQL at {where} has no database {url.database!r}: "
            f"create it (createdb {url.database}) or {FIX_URL}"
        )
    if isinstance(
        cause, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return f"PostgreSQL at {where} refused user {url.username!r} ({_text(cause)}): {FIX_URL}"
    if isinstance(cause, OSError):
        refused = isinstance(cause, ConnectionRefusedError) or "refused" in str(cause).lower()
        why = "connection refused" if refused else _text(cause)
        return f"cannot reach PostgreSQL at {where} ({why}): start PostgreSQL or {FIX_URL}"
    return f"cannot use the database at {where}: {_text(cause)}"


def _sqlite_problem(cause: BaseException, path: str) -> str:
    if isinstance(cause, PermissionError) or getattr(cause, "errno", None) == errno.EACCES:
        target = getattr(cause, "filename", None) or path
        return (
            f"permission denied on {target} (the SQLite database {path}): make its directory "
            f"writable by this user, or {FIX_URL}"
        )
    if isinstance(cause, OSError) and cause.filename:
        return (
            f"cannot create {cause.filename} for the SQLite database {path} ({cause.strerror}): "
            f"{FIX_URL}"
        )
    text = _text(cause)
    if isinstance(cause, sqlite3.Error):
        lowered = text.lower()
        if "readonly" in lowered:
            return (
                f"permission denied writing the SQLite database {path} ({text}): give this "
                f"user write access to the file and its directory, or {FIX_URL}"
            )
        if "unable to open" in lowered:
            return (
                f"cannot open the SQLite database {path} ({text}): make sure its directory "
                f"exists and is writable by this user, or {FIX_URL}"
            )
        if "not a database" in lowered:
            return f"{path} is not an SQLite database: {FIX_URL}"
    return f"cannot use the SQLite database {path}: {text}"


def _root(exc: BaseException) -> BaseException:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig
    # SQLAlchemy's asyncpg adapter wraps the driver's exception once more.
    while getattr(exc, "__cause__", None) is not None and not _is_driver_error(exc):
        exc = exc.__cause__  # type: ignore[assignment]
    return exc


def _is_driver_error(exc: BaseException) -> bool:
    return isinstance(exc, asyncpg.PostgresError | sqlite3.Error | OSError)


def _text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
