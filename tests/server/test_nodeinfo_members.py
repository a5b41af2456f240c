"""NodeInfo `usage.users` counts the people who have an account here: not those who left the
Network (their `Person` row stays, so their name stays taken), not "Former member", not remote
people; activeMonth and activeHalfyear go by when each member was last seen."""

from __future__ import annotations

from datetime import timedelta

from models.account_lifecycle import former_member, remove_member
from models.accounts import Account
from models.actors import Actor, get_local_actor
from models.base import utcnow
from server.appkeys import WRITE_SESSIONS
from tests.server.test_auth import make_member


async def users(copnet) -> dict:
    body = await (await copnet.get("/nodeinfo/2.1")).json(content_type=None)
    return body["usage"]["users"]


async def test_members_who_left_are_not_counted(copnet):
    app = copnet.server.app
    for name in ("ada", "ben", "cal", "dee"):
        await make_member(app, name)
    assert await users(copnet) == {"total": 4, "activeMonth": 4, "activeHalfyear": 4}
    long_ago = utcnow() - timedelta(days=200)
    async with app[WRITE_SESSIONS]() as session:
        for name, content in (("cal", "remove"), ("dee", "anonymise")):
            await remove_member(session, (await get_local_actor(session, name)).id, content)
        await former_member(session)
        ben = await session.get(Account, (await get_local_actor(session, "ben")).id)
        ben.created_at = long_ago
        ben.last_login_at = long_ago
        ben.last_seen_at = utcnow() - timedelta(days=100)
        session.add(
            Actor(
                type="Person",
                ap_id="https://social.example/users/kim",
                username="kim",
                domain="social.example",
                public_key_pem="-",
            )
        )
        await session.commit()
    # ada was seen today; ben 100 days ago; cal and dee left; "Former member" and kim are no one's
    # account here.
    assert await users(copnet) == {"total": 2, "activeMonth": 1, "activeHalfyear": 2}
    for version in ("2.0", "2.1"):
        body = await (await copnet.get(f"/nodeinfo/{version}")).json(content_type=None)
        assert body["usage"]["users"]["total"] == 2
