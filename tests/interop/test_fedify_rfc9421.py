"""RFC 9421 between copnet and Fedify, each signing and verifying with its own code.

member_server.mjs (a Fedify federation, see its header) reports every signed request it gets
(REPORT_KNOCKS). Fedify's `firstKnock: "rfc9421"` (its default) must get 202 from copnet at the
first knock; copnet then knows the server reads RFC 9421 and its own first knock (the Accept)
must succeed without fallback. Against a server that knows only draft-cavage (CAVAGE_ONLY),
with copnet told to knock RFC 9421 first at unknown servers, copnet must fall back once and
remember it: one refused request, ever.
"""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from models.instances import Instance
from server.appkeys import SESSIONS
from server.ops.metrics_exposure import render
from tests.interop.node import NodeAgent, require_fedify
from tests.support.instances import add_community, free_port

pytestmark = pytest.mark.interop

INBOX_METRIC = "copnet_inbox_activities_total"


async def inbox_count(copnet, outcome: str, reason: str) -> float:
    text = (await render(copnet.app)).body.decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name == INBOX_METRIC and (labels.get("outcome"), labels.get("reason")) == (
                outcome,
                reason,
            ):
                return sample.value
    return 0.0


async def standard_of(copnet, domain: str) -> str | None:
    async with copnet.app[SESSIONS]() as session:
        return await session.scalar(
            select(Instance.signature_standard).where(Instance.domain == domain)
        )


def knocks(fedify: NodeAgent, method: str | None = None) -> list[tuple[str, str, int]]:
    """(method, standard, status) of each signed request the Fedify server got."""
    return [
        (e["method"], e["standard"], e["status"])
        for e in fedify.events
        if e.get("event") == "knock" and method in (None, e["method"])
    ]


async def test_rfc9421_both_ways_without_fallback(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice")
    cop = f"{copnet.url}/c/nursing"
    port = free_port()
    env = {**node_env, "FIRST_KNOCK": "rfc9421", "REPORT_KNOCKS": "1"}
    async with NodeAgent("member_server.mjs", str(port), env=env) as fedify:
        await fedify.send({"cmd": "follow", "target": cop})
        await fedify.expect("sent", explain=copnet.queues)
        accept = await fedify.expect("accept", step=copnet.settle, explain=copnet.queues)
        assert accept["actor"] == cop
        # Fedify's first knock (RFC 9421) was accepted: no signature refusal at copnet's inbox.
        assert await inbox_count(copnet, "accepted", "accepted") == 1
        assert await inbox_count(copnet, "rejected", "signature") == 0
        assert await standard_of(copnet, f"127.0.0.1:{port}") == "rfc9421"
        # copnet's Accept went with RFC 9421 and Fedify took it at once.
        assert knocks(fedify, "POST") == [("POST", "rfc9421", 202)]
        assert fedify.untaken("inbox-error") == []


async def test_cavage_only_peer_costs_one_fallback_remembered(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet(signature_first_knock="rfc9421")
    await add_community(copnet.app, "nursing", "Nursing Practice")
    cop = f"{copnet.url}/c/nursing"
    port = free_port()
    domain = f"127.0.0.1:{port}"
    env = {
        **node_env,
        "FIRST_KNOCK": "draft-cavage-http-signatures-12",
        "CAVAGE_ONLY": "1",
        "REPORT_KNOCKS": "1",
    }
    async with NodeAgent("member_server.mjs", str(port), env=env) as fedify:
        await fedify.send({"cmd": "follow", "target": cop})
        await fedify.expect("sent", explain=copnet.queues)
        await fedify.expect("accept", step=copnet.settle, explain=copnet.queues)
        seen = knocks(fedify)
        # The first signed request copnet made (fetching carol's key) knocked with RFC 9421,
        # was refused, and everything after went draft-cavage and was taken.
        assert seen[0][1:] == ("rfc9421", 401), seen
        assert seen[1][1] == "cavage" and seen[1][0] == seen[0][0], seen
        assert all(standard == "cavage" and status < 300 for _m, standard, status in seen[1:])
        assert await standard_of(copnet, domain) == "cavage"

        # More traffic to the same server: still draft-cavage only, never a second refusal.
        await fedify.send({"cmd": "post", "cop": cop, "content": "Handover tips for nights?"})
        await fedify.expect("sent", explain=copnet.queues)
        await fedify.expect("announce", step=copnet.settle, explain=copnet.queues)
        seen = knocks(fedify)
        assert [standard for _m, standard, _s in seen].count("rfc9421") == 1, seen
        assert ("POST", "cavage", 202) in seen
        assert await standard_of(copnet, domain) == "cavage"
        assert fedify.untaken("inbox-error") == []
