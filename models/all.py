"""Imports every model module so metadata is complete (Alembic, tests)."""

from models import (  # noqa: F401
    accounts,
    actors,
    communities,
    documents,
    follows,
    instances,
    outgoing,
    policy,
    posts,
    received,
)
