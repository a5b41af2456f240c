"""The public moderation log, per CoP and for the Network, for people and as AS2."""

from __future__ import annotations

from sqlalchemy import update

from models.communities import Community
from server.appkeys import WRITE_SESSIONS
from tests.moderation.support import AS2, make_moderator, member


async def test_the_log_shows_who_did_what_when_and_why_to_anyone(net, fake):
    cop = await net.community("nursing", "Nursing")
    await net.community("other", "Other")
    mona = await member(net, "mona", joins="nursing")
    await make_moderator(net, "nursing", "mona")
    tom = await member(net, "tom", joins="nursing")
    started = await tom.post("/c/nursing/threads", title="Buy cheap pills", body="spam")
    root = started.headers["Location"].rsplit("/", 1)[1]
    await mona.post(f"/t/{root}/moderate", post=root, action="remove", reason="advertising")
    await mona.post("/c/nursing/moderation/ban", person="tom", reason="spam", days="30")
    await net.settle()

    for path in ("/c/nursing/modlog", "/modlog"):
        response = await net.client.get(f"{net.url}{path}", headers={"Accept": "text/html"})
        page = await response.text()
        assert response.status == 200
        assert "advertising" in page and "banned" in page and "until" in page
        assert "Mona" in page and "Tom" in page
        assert "Buy cheap pills" not in page  # a removed post is not re-published by the log
    assert (
        "Nothing yet."
        in await (
            await net.client.get(f"{net.url}/c/other/modlog", headers={"Accept": "text/html"})
        ).text()
    )

    document = await (await net.client.get(f"{cop}/modlog", headers=AS2)).json(content_type=None)
    assert document["type"] == "OrderedCollection"
    ban, removal = document["orderedItems"]
    assert ban["type"] == "Block" and ban["object"] == f"{net.url}/u/tom"
    assert ban["actor"] == f"{net.url}/u/mona" and ban["summary"] == "spam" and ban["endTime"]
    assert removal["type"] == "Delete" and removal["object"] == f"{net.url}/p/{root}"
    assert removal["target"] == cop


async def test_a_pending_cops_log_is_hidden_like_the_cop(net, fake):
    await net.community("hidden", "Hidden")
    async with net.app[WRITE_SESSIONS].begin() as session:
        await session.execute(update(Community).values(status="pending"))
    response = await net.client.get(f"{net.url}/c/hidden/modlog", headers=AS2)
    assert response.status == 404
