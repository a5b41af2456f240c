"""A Fedify server's member votes in a Basecamp's poll, the Basecamp moves, the vote still counts.

network_follower.mjs (a real Fedify federation) follows the Network actor. It must receive one
Event and one poll for the Basecamp; after the move, the Update{Question} keeps the poll's id and
`endTime` (GoToSocial would otherwise start a new poll and drop its votes: gotosocial
internal/federation/dereferencing/util.go, pollChanged) and still counts dana's vote, and dana's
second vote replaces the first, as a Mastodon single-choice poll does.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from models.base import utcnow
from models.event_queries import get_event, tallies
from models.events import Event
from server.appkeys import SESSIONS, URLS, WRITE_SESSIONS
from server.services.basecamp_input import parse_input
from server.services.basecamps import create_basecamp, update_basecamp
from server.services.network_actor import ensure_network_actor
from tests.interop.node import NodeAgent, require_fedify
from tests.scenarios.test_basecamp_federation import basecamp_fields
from tests.support.instances import add_community, free_port

pytestmark = pytest.mark.interop


async def test_a_fedify_vote_survives_a_move_and_a_second_vote_replaces_it(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward nurses talk.")
    async with copnet.app[WRITE_SESSIONS].begin() as session:
        network = await ensure_network_actor(session)
    network_url = f"{copnet.url}/c/{network.actor.local_name}"

    async with NodeAgent("network_follower.mjs", str(free_port()), env=node_env) as fedify:
        await fedify.send({"cmd": "follow", "target": network_url})
        await fedify.expect("sent", explain=copnet.queues)
        await fedify.expect("accept", step=copnet.settle, explain=copnet.queues)

        async with copnet.app[WRITE_SESSIONS].begin() as session:
            data = parse_input(basecamp_fields(), ["nursing"])
            event = await create_basecamp(
                session, copnet.app[URLS], data, creator_id=None, now=utcnow()
            )
        first = await fedify.expect("create", step=copnet.settle, explain=copnet.queues)
        second = await fedify.expect("create", step=copnet.settle, explain=copnet.queues)
        received = {item["objectType"]: item for item in (first, second)}
        assert set(received) == {"Event", "Question"}, received
        poll = received["Question"]
        await copnet.settle()
        assert fedify.untaken("create") == [] and fedify.untaken("announce") == []

        await fedify.send(
            {"cmd": "vote", "poll": poll["objectId"], "option": "Going", "to": network_url}
        )
        await fedify.expect("sent", explain=copnet.queues)
        await copnet.settle()

        later = (utcnow() + timedelta(days=33)).date().isoformat()
        async with copnet.app[WRITE_SESSIONS].begin() as session:
            row = await session.get(Event, event.id)
            moved = parse_input(
                basecamp_fields(start=f"{later} 11:00", end=f"{later} 17:00"), ["nursing"]
            )
            await update_basecamp(session, copnet.app[URLS], row, moved, now=utcnow())
        updates = [
            await fedify.expect("update", step=copnet.settle, explain=copnet.queues)
            for _ in range(2)
        ]
        by_type = {item["objectType"]: item for item in updates}
        assert set(by_type) == {"Event", "Question"}, updates
        assert by_type["Question"]["objectId"] == poll["objectId"]
        assert by_type["Question"]["endTime"] == poll["endTime"]
        assert by_type["Question"]["voters"] == 1  # the vote before the move still counts
        assert by_type["Event"]["startTime"].startswith(later)

        await fedify.send(
            {"cmd": "vote", "poll": poll["objectId"], "option": "Maybe", "to": network_url}
        )
        await fedify.expect("sent", explain=copnet.queues)
        await copnet.settle()
        async with copnet.app[SESSIONS]() as session:
            counted = await get_event(session, event.id)
            assert await tallies(session, event.id) == {"maybe": 1}
        assert counted.participant_count == 0
        assert fedify.untaken("inbox-error") == []
