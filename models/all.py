"""Imports every model module so metadata is complete (Alembic, tests)."""

from models import (  # noqa: F401
    accounts,
    actors,
    communities,
    documents,
    events,
    follows,
    instances,
    jobs,
    moderation,
    notifications,
    outgoing,
    policy,
    post_revisions,
    posts,
    rate_limits,
    received,
    reports,
    search,
)
