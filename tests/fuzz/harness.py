"""Seeded fuzzing of the inboxes: captured activities, mutated, signed, sent to a running copnet.

Used by tests/fuzz/test_inbox_fuzz.py (a few thousand bodies per database) and bench/fuzz.py
(a million or more, by hand). A body is a real fixture from tests/fixtures moved onto the fake
fediverse, with one to three mutations: a value anywhere replaced by something hostile (lone
surrogates, NUL, NaN, huge numbers, relative or script URLs, impossible dates, wrong shapes), a
key dropped, a type swapped. Most keep a fresh id on the signer's host, so they get past the
inbox and reach the handlers; the rest exercise the inbox's own checks.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sqlalchemy import func, select
from yarl import URL

from federation.keys import load_private_key
from federation.signatures import sign_request
from models.received import ReceivedActivity
from server.appkeys import DELIVERY, INTAKE, SESSIONS
from tests.scenarios.test_fixtures import ACTIVITY_FIXTURES, adapt

BIG_INTEGER = "@@big-integer@@"  # replaced in the text: json.dumps cannot write it
TYPES = ["Create", "Update", "Delete", "Follow", "Undo", "Like", "Announce", "Accept", "Join"]
FINAL_STATES = ("done", "ignored", "rejected", "failed")
KEPT = 100  # examples kept of each kind of failure


def hostile_values(cop: str, actor_id: str) -> list[Any]:
    """Values a hostile or broken server might put anywhere."""
    return [
        None,
        "",
        "\ud800",
        "x\u0000y",
        BIG_INTEGER,
        float("nan"),
        float("inf"),
        float("-inf"),
        1e300,
        -1,
        0,
        True,
        2**63,
        [],
        {},
        [[[[]]]],
        "/relative/path",
        "javascript:alert(1)",
        "http://",
        "http:///nohost",
        "x" * 3000,
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "not a date",
        {"type": "\ud800"},
        ["Note", "Page"],
        {"id": 5},
        {"type": ["Note"], "id": actor_id + "/n"},
        # (no URL on a real host: the fuzz must not reach beyond loopback)
        f"{URL(actor_id).origin()}/nowhere",
        actor_id,
        cop,
        f"{cop}/p/{10**30}",
        f"{URL(cop).origin()}/p/99999999999999999999999",
        "<script>alert(1)</script><p onclick='x'>hi</p>",
        "\U0001f600" * 50,
        "Infinity",
    ]


def _paths(document: Any, prefix: tuple = ()) -> list[tuple]:
    found = []
    if isinstance(document, dict):
        for key, value in document.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found.append((*prefix, index))
            found.extend(_paths(value, (*prefix, index)))
    return found


def _parent(document: Any, path: tuple) -> Any:
    for step in path[:-1]:
        document = document[step]
    return document


@dataclass
class Seed:
    """One captured activity on the fake fediverse, and the actor who signs its mutants."""

    activity: dict
    actor_id: str
    key_id: str
    private_key: Any


class Mutator:
    """Makes mutated bodies from the seeds, reproducibly for one random seed."""

    def __init__(self, seeds: list[Seed], cop: str, seed: int):
        self.seeds = seeds
        self.cop = cop
        self.random = random.Random(seed)
        self.serial = 0

    def body(self) -> tuple[Seed, bytes]:
        """The next mutated body (UTF-8 JSON text, possibly with NaN and the like)."""
        rng = self.random
        seed = rng.choice(self.seeds)
        document = copy.deepcopy(seed.activity)
        values = hostile_values(self.cop, seed.actor_id)
        for _ in range(rng.randint(1, 3)):
            self._mutate(document, values)
        self.serial += 1
        if rng.random() < 0.8 and isinstance(document, dict):
            # Past the inbox's own checks, to the handlers.
            document["id"] = f"{URL(seed.actor_id).origin()}/fuzz/{self.serial}-{rng.random()}"
            document["actor"] = seed.actor_id
        text = json.dumps(document, allow_nan=True)
        return seed, text.replace(f'"{BIG_INTEGER}"', "9" * 5000).encode("utf-8", "surrogatepass")

    def _mutate(self, document: dict, values: list[Any]) -> None:
        rng = self.random
        roll = rng.random()
        if roll < 0.15:
            document["type"] = rng.choice([*TYPES, "\ud800", ["Create"], {"a": 1}, 7])
            return
        if roll < 0.25 and isinstance(document.get("object"), dict):
            document["object"]["type"] = rng.choice([*TYPES, "Note", "Page", "Event", "\ud800"])
            return
        paths = _paths(document)
        if not paths:
            return
        path = rng.choice(paths)
        parent = _parent(document, path)
        if roll < 0.35 and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(values))


def load_seeds(fake, cop: str) -> list[Seed]:
    """Every captured activity with a usable actor, moved onto the fake fediverse."""
    seeds = []
    for relative in ACTIVITY_FIXTURES:
        activity = adapt(fake, relative, cop)
        actor_id = activity.get("actor") or activity.get("attributedTo")
        actor_id = actor_id.get("id") if isinstance(actor_id, dict) else actor_id
        if not isinstance(actor_id, str) or URL(actor_id).origin() == URL(cop).origin():
            continue
        if not actor_id.startswith(fake.base(URL(actor_id).host or "") + "/"):
            continue  # a host the fixture names with its own port: not on the fake
        actor = fake.actor_at(actor_id)
        seeds.append(Seed(activity, actor_id, actor.key_id, load_private_key(actor.private_pem)))
    for seed in seeds:
        inner = seed.activity.get("object")
        # Objects are served where they live, but never over an actor (its key must stay).
        if isinstance(inner, dict) and isinstance(inner.get("id"), str):
            if inner["id"].split("#")[0] not in fake.actors:
                fake.serve(inner["id"], inner)
    return seeds


@dataclass
class FuzzResult:
    """What the fuzzing saw."""

    sent: int = 0
    statuses: Counter = field(default_factory=Counter)
    # The first few 5xx answers (status, reason, body); all of them are in `statuses`.
    server_errors: list[tuple[int, str, bytes]] = field(default_factory=list)
    states: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)  # (status, reason) of refusals


class TracebackCatcher(logging.Handler):
    """Keeps every log record that carries a traceback or is an error."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []  # the first KEPT of them
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.records) < KEPT:
            self.records.append(record)

    def summary(self, limit: int = 5) -> str:
        """The first few records, formatted with their tracebacks."""
        formatter = logging.Formatter("%(name)s: %(message)s")
        return "\n\n".join(formatter.format(record) for record in self.records[:limit])


async def send_signed(
    client: aiohttp.ClientSession, inbox: str, seed: Seed, body: bytes
) -> tuple[int, str]:
    """POST one body signed by the seed's actor; returns the status and the reason."""
    headers = sign_request(
        "POST",
        inbox,
        {"Content-Type": "application/activity+json"},
        body,
        key_id=seed.key_id,
        private_key=seed.private_key,
    )
    async with client.post(inbox, data=body, headers=headers) as response:
        text = await response.text(errors="replace")
        try:
            return response.status, str(json.loads(text).get("error", text))[:300]
        except (ValueError, AttributeError):
            return response.status, text[:300]


async def drain(app, *, rounds: int = 10_000) -> None:
    """Run intake (and delivery) until nothing due is left."""
    for _ in range(rounds):
        if not await app[INTAKE].run_once() + await app[DELIVERY].run_once():
            return


async def row_states(app) -> Counter:
    """Received rows per state."""
    async with app[SESSIONS]() as session:
        query = select(ReceivedActivity.state, func.count()).group_by(ReceivedActivity.state)
        return Counter({state: int(n) for state, n in await session.execute(query)})


async def unfinished(app, limit: int = 5) -> list[tuple[str, int, str]]:
    """A few received rows still pending: (type, attempts, last error)."""
    async with app[SESSIONS]() as session:
        rows = await session.scalars(
            select(ReceivedActivity).where(ReceivedActivity.state == "pending").limit(limit)
        )
        return [(row.type, row.attempts, row.last_error) for row in rows]


async def fuzz(
    running,
    fake,
    cop: str,
    *,
    count: int,
    seed: int,
    concurrency: int = 16,
    chunk: int = 500,
    progress: Callable[[FuzzResult], None] | None = None,
) -> FuzzResult:
    """Send `count` mutated bodies to the CoP's inbox and the shared inbox, draining the
    intake queue after every chunk; returns what was seen."""
    mutator = Mutator(load_seeds(fake, cop), cop, seed)
    inboxes = [f"{cop}/inbox", f"{running.url}/inbox"]
    result = FuzzResult()
    limit = asyncio.Semaphore(concurrency)

    async def one() -> None:
        seed_, body = mutator.body()
        inbox = mutator.random.choice(inboxes)
        async with limit:
            status, reason = await send_signed(running.client, inbox, seed_, body)
        result.statuses[status] += 1
        if status != 202 and (len(result.reasons) < 500 or (status, reason) in result.reasons):
            result.reasons[(status, reason)] += 1
        if status >= 500 and len(result.server_errors) < KEPT:
            result.server_errors.append((status, reason, body[:500]))

    while result.sent < count:
        size = min(chunk, count - result.sent)
        await asyncio.gather(*(one() for _ in range(size)))
        result.sent += size
        await drain(running.app)
        if progress is not None:
            progress(result)
    result.states = await row_states(running.app)
    return result
