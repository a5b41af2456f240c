"""With COPNET_ALLOW_PRIVATE_ADDRESSES off (the production default) nothing private is fetched.

Every other app-level test turns the guard off so peers on 127.0.0.1 can federate; this one
starts copnet with it on and shows that a sender on a private address is refused end to end.
"""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import func, select

from federation.fetch import FetchError
from models.received import ReceivedActivity
from server.app import create_app
from server.appkeys import FETCHER, SESSIONS, SETTINGS
from server.settings import load_settings
from tests.support.fakeremote import loopback_host_map
from tests.support.instances import add_community, free_port


@pytest.fixture
async def guarded(aiohttp_server, database_url):
    port = free_port()
    settings = load_settings(
        {},
        url=f"http://copnet.test:{port}",
        database_url=database_url,
        run_workers=False,
        host_map=loopback_host_map(),
    )
    assert settings.allow_private_addresses is False
    app = create_app(settings)
    await aiohttp_server(app, port=port)
    client = aiohttp.ClientSession()
    yield app, f"http://127.0.0.1:{port}", client
    await client.close()


async def test_a_sender_on_a_private_address_is_never_fetched(guarded, fake):
    app, base, client = guarded
    await add_community(app, "nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    cop = app[SETTINGS].url + "/c/nursing"
    follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    response = await fake.send(alice, f"{base}/c/nursing/inbox", follow, session=client)
    assert response.status == 401
    assert ("mastodon.test", "/users/alice") not in fake.gets
    with pytest.raises(FetchError):
        await app[FETCHER].fetch_json(alice.id)
    assert fake.gets == []
    async with app[SESSIONS]() as session:
        stored = await session.scalar(select(func.count()).select_from(ReceivedActivity))
    assert stored == 0
