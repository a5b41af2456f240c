"""A Lemmy-style importer built on Fedify reads a CoP's outbox and meets only people as authors.

PieFed (Lemmy-compatible) could not import a CoP's history while the Network's Basecamp Event
and poll, attributed to its `Group` actor, were listed first in every CoP outbox: Lemmy's post
needs a person as author (LemmyNet/lemmy crates/apub/src/protocol/objects/page.rs). Those are
now kept out of CoP outboxes (server/services/distribution.py, `by_a_group`).
"""

from __future__ import annotations

import json

import pytest

from models.base import utcnow
from server.appkeys import URLS, WRITE_SESSIONS
from server.services.basecamp_input import parse_input
from server.services.basecamps import create_basecamp
from tests.interop.node import require_fedify, run_node
from tests.scenarios.test_basecamp_federation import basecamp_fields
from tests.scenarios.test_local_members import member_thread
from tests.support.instances import add_community

pytestmark = pytest.mark.interop


async def test_a_lemmy_style_import_of_a_cop_outbox_meets_no_group_author(start_copnet, node_env):
    require_fedify()
    copnet = await start_copnet()
    await add_community(copnet.app, "nursing", "Nursing Practice", "Ward nurses talk.")
    _member, post = await member_thread(copnet)
    async with copnet.app[WRITE_SESSIONS].begin() as session:
        data = parse_input(basecamp_fields(), ["nursing"])
        await create_basecamp(session, copnet.app[URLS], data, creator_id=None, now=utcnow())
    await copnet.settle()

    group_url = f"{copnet.url}/c/nursing"
    code, stdout, stderr = await run_node("outbox_import.mjs", group_url, env=node_env)
    assert code == 0, f"outbox_import.mjs exited {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    items = json.loads(stdout)["items"]
    assert [item["objectId"] for item in items] == [f"{copnet.url}/p/{post.id}"], stderr
    assert {item["authorType"] for item in items} == {"Person"}
    assert all(item["activity"].endswith("#Create") for item in items)
