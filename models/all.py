"""Imports every model module so metadata is complete (Alembic, tests)."""

from models import actors, communities  # noqa: F401
