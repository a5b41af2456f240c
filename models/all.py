"""Imports every model module so metadata is complete (Alembic, tests)."""

from models import (  # noqa: F401
    accounts,
    actors,
    communities,
    documents,
    events,
    follows,
    harvest,
    instances,
    jobs,
    mail,
    moderation,
    notifications,
    outgoing,
    policy,
    post_revisions,
    posts,
    received,
    reports,
    search,
    watching,
)
