"""Alembic environment: copnet always hands in a live connection (see models/migrate.py)."""

from alembic import context

import models.all  # noqa: F401  (registers every table on Base.metadata)
from models.base import Base
from models.search_index import include_name

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `copnet migrate`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=include_name,  # the full-text objects are engine-specific (models/search_index.py)
)
with context.begin_transaction():
    context.run_migrations()
