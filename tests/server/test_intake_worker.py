"""The intake worker: every claimed row reaches a final state, and a lost lease records nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import func, select

from models.base import utcnow
from models.claims import claim_due
from models.outgoing import OutgoingActivity
from models.received import ReceivedActivity, received_row, store_batch
from server.appkeys import ENGINE, INTAKE, SESSIONS
from server.workers.intake import IntakeWorker


async def store(network, activity: dict, signer) -> None:
    row = received_row(
        ap_id=activity["id"],
        type=activity["type"],
        actor_ap_id=activity["actor"],
        signer_key_id=signer.key_id,
        inbox="shared",
        body=json.dumps(activity),  # escapes a lone surrogate: the text itself is storable
    )
    async with network.app[ENGINE].begin() as connection:
        await store_batch(connection, [row])


async def rows(network) -> list[ReceivedActivity]:
    async with network.app[SESSIONS]() as session:
        return list(await session.scalars(select(ReceivedActivity).order_by(ReceivedActivity.id)))


async def test_a_row_whose_outcome_cannot_be_written_fails_alone(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    poison = {
        "id": fake.new_id(alice),
        "type": "Undo",
        "actor": alice.id,
        "object": {"type": "\ud800", "actor": alice.id},
    }
    await store(network, poison, alice)
    for _ in range(3):  # claimed with it, after it in the same actor's queue
        follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
        await store(network, follow, alice)

    assert await network.app[INTAKE].run_once() == 4

    states = [(row.state, row.last_error) for row in await rows(network)]
    assert states[0][0] in ("rejected", "ignored", "failed")
    assert states[0][1]
    assert [state for state, _ in states[1:]] == ["done"] * 3


async def accepts(network) -> int:
    async with network.app[SESSIONS]() as session:
        query = select(func.count()).where(OutgoingActivity.type == "Accept")
        return int(await session.scalar(query.select_from(OutgoingActivity)))


async def test_a_worker_whose_lease_ran_out_records_nothing(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    await store(network, follow, alice)
    first = network.app[INTAKE]
    start = utcnow()
    [row_id] = await claim_due(
        network.app[ENGINE], ReceivedActivity, now=start, limit=10, lease=first.lease
    )
    (claimed,) = await rows(network)

    # The first worker stalls past its lease; a second one takes the row and finishes it.
    later = start + first.lease + timedelta(seconds=1)
    second = IntakeWorker(
        first.engine, first.sessions, first.make_context, clock=lambda: later, lease=first.lease
    )
    assert await second.run_once() == 1
    assert await accepts(network) == 1

    await first.process(claimed, lease_until=start + first.lease)

    (row,) = await rows(network)
    assert row.id == row_id and row.state == "done"
    assert row.processed_at == later
    assert await accepts(network) == 1


async def test_a_stored_row_with_non_finite_numbers_is_rejected_not_retried(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    follow = {"id": fake.new_id(alice), "type": "Follow", "actor": alice.id, "object": cop}
    follow["capacity"] = float("nan")  # stored before the inbox refused such bodies
    await store(network, follow, alice)

    assert await network.app[INTAKE].run_once() == 1

    (row,) = await rows(network)
    assert (row.state, row.last_error) == ("rejected", "NaN is not a JSON number")
    assert await accepts(network) == 0
