"""A Fedify-built server follows the Network actor, receives a Basecamp and votes in its poll.

network_follower.mjs is a real Fedify federation (dana's home server) on loopback; copnet runs
over TLS beside it. Fedify parses copnet's Create{Event} and Create{Question} with its own
JSON-LD processor and verifies their signatures; dana's vote, in Mastodon's wire format, comes
back signed by Fedify and counts as an RSVP.
"""

from __future__ import annotations

import pytest

from models.base import utcnow
from models.event_queries import get_event
from server.appkeys import SESSIONS, URLS, WRITE_SESSIONS
from server.services.basecamp_input import parse_input
from server.services.basecamps import create_basecamp
from server.services.network_actor import ensure_network_actor
from tests.interop.node import NodeAgent, require_fedify
from tests.scenarios.test_basecamp_federation import basecamp_fields
from tests.support.instances import add_community, free_port

pytestmark = pytest.mark.interop


async def test_fedify_follows_the_network_actor_and_receives_the_basecamp(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward nurses talk.")
    async with copnet.app[WRITE_SESSIONS].begin() as session:
        network = await ensure_network_actor(session)
    network_url = f"{copnet.url}/c/{network.actor.local_name}"
    port = free_port()

    async with NodeAgent("network_follower.mjs", str(port), env=node_env) as fedify:
        await fedify.send({"cmd": "follow", "target": network_url})
        follow = await fedify.expect("sent", explain=copnet.queues)
        accept = await fedify.expect("accept", step=copnet.settle, explain=copnet.queues)
        assert (accept["actor"], accept["object"]) == (network_url, follow["id"])

        async with copnet.app[WRITE_SESSIONS].begin() as session:
            data = parse_input(basecamp_fields(), ["nursing"])
            event = await create_basecamp(
                session, copnet.app[URLS], data, creator_id=None, now=utcnow()
            )
        event_url = f"{copnet.url}/b/{event.id}"

        first = await fedify.expect("create", step=copnet.settle, explain=copnet.queues)
        second = await fedify.expect("create", step=copnet.settle, explain=copnet.queues)
        received = {item["objectType"]: item for item in (first, second)}
        assert set(received) == {"Event", "Question"}, received
        basecamp = received["Event"]
        assert basecamp["actor"] == network_url
        assert basecamp["objectId"] == event_url
        assert basecamp["name"] == "Basecamp Leeds"
        assert "Leeds Town Hall" in basecamp["summary"]
        assert basecamp["startTime"] == event.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert basecamp["endTime"] == event.ends_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        poll = received["Question"]
        assert poll["objectId"] == f"{event_url}/poll"
        assert poll["options"] == ["Going", "Maybe", "Can't go"]

        # dana votes "Going" the way Mastodon does; copnet counts it as an RSVP.
        await fedify.send(
            {"cmd": "vote", "poll": poll["objectId"], "option": "Going", "to": network_url}
        )
        await fedify.expect("sent", explain=copnet.queues)
        await copnet.settle()
        async with copnet.app[SESSIONS]() as session:
            counted = await get_event(session, event.id)
        assert counted.participant_count == 1, await copnet.queues()
        assert fedify.untaken("inbox-error") == []
