"""Moderation tests run against a served copnet next to the fake fediverse (both databases)."""

from __future__ import annotations

import pytest

from tests.server.test_auth import fast_argon2


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


@pytest.fixture
async def net(network):
    """The served copnet; members signed in during a test are signed out after it."""
    network.members = []
    yield network
    for member in network.members:
        await member.close()
