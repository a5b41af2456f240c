"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def is_sqlite(url: str) -> bool:
    """True when the database URL names SQLite."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; we emit it ourselves so that
        # `BEGIN IMMEDIATE` can be used to claim work rows (see models/claims).
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    # No pool_pre_ping: it costs three round trips per checkout on the inbox's hot path.
    # Connections are recycled hourly instead; a connection broken by a server restart is
    # invalidated on first use and the work it carried is retried (inbox senders retry too).
    # JIT compilation pays off for long analytical queries. copnet's take milliseconds, but a
    # search's estimate can cross jit_above_cost, and compiling would then cost more than it
    # saves. Set when connecting, it costs no round trip (search used to set it per query).
    return create_async_engine(
        url,
        echo=echo,
        pool_size=10,
        max_overflow=10,
        pool_recycle=3600,
        connect_args={"server_settings": {"jit": "off"}},
    )


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "BEGIN")
    connection.exec_driver_sql(mode)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded attributes after commit (no surprise lazy loads)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def write_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for read-then-write transactions: SQLite takes its write lock up front.

    A deferred SQLite transaction that reads and then writes can fail with "database is locked"
    when another writer got there first; `BEGIN IMMEDIATE` waits for the lock instead.
    """
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
    return async_sessionmaker(engine, expire_on_commit=False)
