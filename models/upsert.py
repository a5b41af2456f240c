"""INSERT ... ON CONFLICT in the dialect of the session's database: the one place that knows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


def dialect_insert(bind: AsyncSession | AsyncConnection):
    """The `insert` construct with ON CONFLICT support for this database."""
    name = bind.get_bind().dialect.name if isinstance(bind, AsyncSession) else bind.dialect.name
    return postgresql.insert if name == "postgresql" else sqlite.insert


async def upsert(
    session: AsyncSession,
    model: type,
    values: Mapping[str, Any],
    key: str,
    *,
    insert_only: Mapping[str, Any] | None = None,
) -> None:
    """INSERT the row, or UPDATE every given column but `key` when `key` exists already.

    `insert_only` columns are written by the INSERT and left alone by the UPDATE.
    """
    statement = dialect_insert(session)(model).values(**values, **(insert_only or {}))
    changes = {name: statement.excluded[name] for name in values if name != key}
    await session.execute(statement.on_conflict_do_update(index_elements=[key], set_=changes))
