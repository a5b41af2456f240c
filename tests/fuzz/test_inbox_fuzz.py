"""A bounded, seeded fuzz of the inboxes on each database (bench/fuzz.py runs the long one).

Mutated captured activities, signed by their actors, are sent to a running copnet; then the
intake worker runs. Nothing may answer 5xx, nothing may log a traceback, and every stored row
must reach a final state (processed, ignored, rejected or failed with a reason), not be retried.
"""

from __future__ import annotations

import json
import logging
import os

from tests.fuzz.harness import TracebackCatcher, fuzz, load_seeds, send_signed, unfinished

BODIES = int(os.environ.get("COPNET_FUZZ_BODIES", "3000"))
SEED = int(os.environ.get("COPNET_FUZZ_SEED", "1515"))


async def test_mutated_activities_never_crash_the_inbox_or_the_worker(network, fake):
    cop = await network.community("nursing", "Nursing")
    catcher = TracebackCatcher()
    logging.getLogger().addHandler(catcher)
    try:
        result = await fuzz(network, fake, cop, count=BODIES, seed=SEED)
    finally:
        logging.getLogger().removeHandler(catcher)

    assert result.sent == BODIES
    assert not result.server_errors, result.server_errors[:5]
    assert not catcher.records, catcher.summary()
    assert result.statuses[202] > BODIES // 10, result.statuses  # the handlers were reached
    left = await unfinished(network.app)
    assert not left, left
    assert all(row_state in ("done", "ignored", "rejected") for row_state in result.states), (
        result.states
    )


async def test_a_lone_unstorable_request_is_400_not_503(network, fake):
    cop = await network.community("nursing", "Nursing")
    seed = load_seeds(fake, cop)[0]
    activity = {**seed.activity, "id": seed.actor_id + "/" + "x" * 2100}
    status, reason = await send_signed(
        network.client, f"{cop}/inbox", seed, json.dumps(activity).encode()
    )
    assert status == 400, reason
