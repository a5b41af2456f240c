"""Group commit: one row the database cannot store must not spoil the batch it shares."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from models.database import create_engine
from models.received import ReceivedActivity, received_row
from server.workers.inbox_writer import IntakeWriter, Unstorable


def row(ap_id: str) -> dict:
    return received_row(
        ap_id=ap_id,
        type="Create",
        actor_ap_id="https://mastodon.test/users/alice",
        signer_key_id="https://mastodon.test/users/alice#main-key",
        inbox="shared",
        body="{}",
    )


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def store_together(writer: IntakeWriter, rows: list[dict]) -> list:
    # Queued before the writer starts, so all of them land in one batch.
    stores = [asyncio.ensure_future(writer.store(r)) for r in rows]
    await asyncio.sleep(0)
    writer.start()
    try:
        return await asyncio.gather(*stores, return_exceptions=True)
    finally:
        await writer.stop()


async def stored_ids(engine) -> set[str]:
    async with engine.connect() as connection:
        return set((await connection.execute(select(ReceivedActivity.ap_id))).scalars())


@pytest.mark.parametrize(
    ("poison", "reason_part"),
    [("surrogate \ud800", "surrogate"), ("nul \x00", "NUL"), ("x" * 2100, "longer than 2048")],
)
async def test_an_unstorable_row_is_refused_before_the_batch(engine, poison, reason_part):
    valid = [row(f"https://mastodon.test/activities/{n}") for n in range(30)]
    bad = row(f"https://mastodon.test/activities/{poison}")
    results = await store_together(IntakeWriter(engine), [*valid[:15], bad, *valid[15:]])
    assert results[:15] + results[16:] == [True] * 30
    assert isinstance(results[15], Unstorable)
    assert reason_part in results[15].reason
    assert await stored_ids(engine) == {r["ap_id"] for r in valid}


async def test_a_failing_batch_is_retried_row_by_row(engine):
    valid = [row(f"https://mastodon.test/activities/{n}") for n in range(30)]
    # Passes the checks but fails in the INSERT itself (the timestamp cannot be bound).
    bad = {**row("https://mastodon.test/activities/bad"), "received_at": "not a time"}
    results = await store_together(IntakeWriter(engine), [*valid[:15], bad, *valid[15:]])
    assert results[:15] + results[16:] == [True] * 30
    assert isinstance(results[15], Exception)
    assert await stored_ids(engine) == {r["ap_id"] for r in valid}


async def test_duplicates_inside_a_retried_batch_still_count_once(engine):
    same = "https://mastodon.test/activities/same"
    bad = {**row("https://mastodon.test/activities/bad"), "received_at": "not a time"}
    results = await store_together(IntakeWriter(engine), [row(same), bad, row(same)])
    assert results[0] is True
    assert isinstance(results[1], Exception)
    assert results[2] is False


class HeldWriter(IntakeWriter):
    """Records each batch; a batch holding the `held` row waits until `release` is set."""

    def __init__(self, engine, writers: int):
        super().__init__(engine, writers=writers)
        self.held = "https://mastodon.test/activities/held"
        self.release = asyncio.Event()
        self.holding = asyncio.Event()
        self.batches: list[list[str]] = []

    async def _write(self, batch):
        ap_ids = [r["ap_id"] for r, _future in batch]
        self.batches.append(ap_ids)
        if self.held in ap_ids:
            self.holding.set()
            await self.release.wait()
        await super()._write(batch)


async def test_a_lone_request_is_written_at_once_in_a_batch_of_its_own(engine):
    writer = HeldWriter(engine, writers=1)
    writer.start()
    try:
        assert await writer.store(row("https://mastodon.test/activities/alone")) is True
        assert writer.batches == [["https://mastodon.test/activities/alone"]]
        assert await stored_ids(engine) == {"https://mastodon.test/activities/alone"}
    finally:
        await writer.stop()


async def test_a_lone_request_does_not_wait_for_a_batch_being_committed(engine):
    writer = HeldWriter(engine, writers=2)
    writer.start()
    try:
        slow = asyncio.ensure_future(writer.store(row(writer.held)))
        await writer.holding.wait()
        # The first batch is still committing; the next request is taken by the idle task.
        assert await writer.store(row("https://mastodon.test/activities/next")) is True
        assert not slow.done()
        assert await stored_ids(engine) == {"https://mastodon.test/activities/next"}
        writer.release.set()
        assert await slow is True
    finally:
        writer.release.set()
        await writer.stop()
    assert writer.batches == [[writer.held], ["https://mastodon.test/activities/next"]]


async def test_under_load_the_queued_requests_share_one_batch(engine):
    writer = HeldWriter(engine, writers=1)
    writer.start()
    try:
        slow = asyncio.ensure_future(writer.store(row(writer.held)))
        await writer.holding.wait()
        queued = [row(f"https://mastodon.test/activities/{n}") for n in range(40)]
        stores = [asyncio.ensure_future(writer.store(r)) for r in queued]
        await asyncio.sleep(0)
        writer.release.set()
        assert await asyncio.gather(slow, *stores) == [True] * 41
    finally:
        writer.release.set()
        await writer.stop()
    assert writer.batches == [[writer.held], [r["ap_id"] for r in queued]]


async def test_the_same_activity_sent_many_times_at_once_is_stored_once(engine):
    writer = IntakeWriter(engine, writers=4)
    same = "https://mastodon.test/activities/same"
    writer.start()
    try:
        results = await asyncio.gather(*(writer.store(row(same)) for _ in range(12)))
    finally:
        await writer.stop()
    assert sorted(results) == [False] * 11 + [True]


def test_sqlite_has_one_writing_task_and_postgresql_several(engine):
    writers = IntakeWriter(engine).writers
    assert writers == (1 if engine.dialect.name == "sqlite" else 4)


async def test_a_kept_connection_that_was_cut_is_replaced(engine):
    writer = IntakeWriter(engine, writers=1)
    writer.start()
    try:
        assert await writer.store(row("https://mastodon.test/activities/before")) is True
        if engine.dialect.name == "postgresql":
            # The server ends the writer's session, as a restart or an idle timeout would.
            async with engine.connect() as admin:
                cut = await admin.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
            assert cut == 1
        assert await writer.store(row("https://mastodon.test/activities/after")) is True
        assert await writer.store(row("https://mastodon.test/activities/later")) is True
    finally:
        await writer.stop()
    assert await stored_ids(engine) == {
        "https://mastodon.test/activities/before",
        "https://mastodon.test/activities/after",
        "https://mastodon.test/activities/later",
    }
