"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import models.all  # noqa: F401
from models.base import Base
from models.database import create_engine
from models.migrate import current_revision, head_revision
from models.search_index import include_name


async def test_migrated_schema_matches_the_models(database_url):
    engine = create_engine(database_url)

    def diff(connection):
        # The full-text objects are engine-specific and live outside the models' metadata.
        options = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(connection, opts=options)
        return compare_metadata(context, Base.metadata)

    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(diff)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()
    assert differences == []
