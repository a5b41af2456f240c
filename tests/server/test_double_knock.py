"""The double knock against real servers on loopback: copnet knocks with RFC 9421 where a
server is known to read it, falls back to draft-cavage once when refused, follows an
Accept-Signature hint, and remembers every answer in `instances` (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from federation.knock import CAVAGE, RFC9421
from models.database import create_engine, session_factory
from models.instances import Instance
from server.appkeys import SESSIONS
from server.peers.signature_knocks import SignatureKnocks


def follow(fake, actor, cop: str) -> dict:
    return {"id": fake.new_id(actor), "type": "Follow", "actor": actor.id, "object": cop}


async def standard_of(network, domain: str) -> str | None:
    async with network.app[SESSIONS]() as session:
        return await session.scalar(
            select(Instance.signature_standard).where(Instance.domain == domain)
        )


def posts_to(fake, host: str) -> list[str]:
    return [standard for h, method, _p, standard in fake.knocks if h == host and method == "POST"]


async def test_server_that_signs_rfc9421_gets_rfc9421_without_fallback(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("fedify.test", "alice", software="fedify")
    response = await fake.send(
        alice, f"{cop}/inbox", follow(fake, alice, cop), session=network.client, rfc9421=True
    )
    assert response.status == 202
    await network.settle()
    [accept] = fake.deliveries("Accept")
    assert "Signature-Input" in accept.headers
    assert accept.headers["Signature-Input"].startswith(
        'sig1=("@method" "@target-uri" "content-digest");created='
    )
    assert accept.verified_by == f"{network.url}/c/nursing"  # the fake checked it: real signature
    assert posts_to(fake, "fedify.test") == [RFC9421]
    assert await standard_of(network, f"fedify.test:{fake.port}") == RFC9421


async def test_cavage_only_server_costs_one_fallback_ever(network, fake):
    cop = await network.community("nursing", "Nursing")
    fake.cavage_only.add("oldtodon.test")
    alice = fake.actor("oldtodon.test", "alice")
    bob = fake.actor("oldtodon.test", "bob")
    domain = f"oldtodon.test:{fake.port}"
    # It signs with RFC 9421 (say, a proxy in front) but its inbox only reads draft-cavage.
    response = await fake.send(
        alice, f"{cop}/inbox", follow(fake, alice, cop), session=network.client, rfc9421=True
    )
    assert response.status == 202
    assert await standard_of(network, domain) == RFC9421
    await network.settle()
    assert posts_to(fake, "oldtodon.test") == [RFC9421, CAVAGE]  # refused, then accepted
    assert await standard_of(network, domain) == CAVAGE
    # Learnt for good: more RFC 9421 from it changes nothing, the next Accept goes cavage at once.
    response = await fake.send(
        bob, f"{cop}/inbox", follow(fake, bob, cop), session=network.client, rfc9421=True
    )
    assert response.status == 202
    await network.settle()
    assert posts_to(fake, "oldtodon.test") == [RFC9421, CAVAGE, CAVAGE]
    assert len(fake.deliveries("Accept", host="oldtodon.test")) == 2
    assert await standard_of(network, domain) == CAVAGE
    assert [s for h, _m, _p, s in fake.knocks if h == "oldtodon.test"].count(RFC9421) == 1


async def test_accept_signature_hint_turns_a_refused_cavage_knock_into_rfc9421(network, fake):
    cop = await network.community("nursing", "Nursing")
    fake.rfc9421_only["strict.test"] = 'sig1=("@method" "@target-uri" "content-digest");created'
    alice = fake.actor("strict.test", "alice")
    domain = f"strict.test:{fake.port}"
    response = await fake.send(
        alice, f"{cop}/inbox", follow(fake, alice, cop), session=network.client
    )
    assert response.status == 202
    # Fetching alice's key was a signed GET: refused as cavage with a hint, then RFC 9421.
    gets = [s for h, m, _p, s in fake.knocks if h == "strict.test" and m == "GET"]
    assert gets[:2] == [CAVAGE, RFC9421]
    assert set(gets[2:]) <= {RFC9421}
    assert await standard_of(network, domain) == RFC9421
    await network.settle()
    assert posts_to(fake, "strict.test") == [RFC9421]
    assert fake.deliveries("Accept", host="strict.test")


async def test_server_refusing_both_knocks_gets_no_second_knock_again(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("fedify.test", "alice")
    bob = fake.actor("fedify.test", "bob")
    fake.status_for["fedify.test"] = 401  # say, it has blocked this server
    for member in (alice, bob):
        response = await fake.send(
            member, f"{cop}/inbox", follow(fake, member, cop), session=network.client, rfc9421=True
        )
        assert response.status == 202
        await network.settle()
    # One second knock, refused too: the refusal is not about signatures, so bob's Accept goes
    # with draft-cavage (what every server reads) and no second knock.
    assert posts_to(fake, "fedify.test") == [RFC9421, CAVAGE, CAVAGE]
    assert await standard_of(network, f"fedify.test:{fake.port}") == RFC9421  # nothing learnt


async def test_unknown_server_gets_cavage_first_by_default(network, fake):
    cop = await network.community("nursing", "Nursing")
    alice = fake.actor("mastodon.test", "alice")
    response = await fake.send(
        alice, f"{cop}/inbox", follow(fake, alice, cop), session=network.client
    )
    assert response.status == 202
    await network.settle()
    assert posts_to(fake, "mastodon.test") == [CAVAGE]
    assert [s for h, _m, _p, s in fake.knocks if h == "mastodon.test"] == [CAVAGE] * len(
        [k for k in fake.knocks if k[0] == "mastodon.test"]
    )
    assert await standard_of(network, f"mastodon.test:{fake.port}") is None


@pytest.fixture
async def sessions(database_url):
    from models.migrate import upgrade

    engine = create_engine(database_url)
    await upgrade(engine)
    yield session_factory(engine)
    await engine.dispose()


async def test_memory_rules(sessions):
    clock = lambda: datetime(2026, 12, 2, tzinfo=UTC)  # noqa: E731
    knocks = SignatureKnocks(sessions, first_knock=RFC9421, clock=clock)
    await knocks.load(["a.test", "b.test"])
    assert knocks.first_knock("a.test") == RFC9421  # the setting, for unknown servers
    assert knocks.probe("a.test") is not None  # its RFC 9421 knock is unanswered
    await knocks.refused_rfc9421("a.test", CAVAGE)
    await knocks.heard_rfc9421("a.test")  # a refusal is final
    await knocks.accepted("b.test", CAVAGE)  # says nothing about RFC 9421
    fresh = SignatureKnocks(sessions, clock=clock)
    await fresh.load(["a.test", "b.test"])
    assert (fresh.known("a.test"), fresh.first_knock("a.test")) == (CAVAGE, CAVAGE)
    assert not fresh.may_try_rfc9421("a.test")
    assert (fresh.known("b.test"), fresh.first_knock("b.test")) == (None, CAVAGE)
    await fresh.heard_rfc9421("b.test")
    assert fresh.first_knock("b.test") == RFC9421
    await fresh.accepted("b.test", RFC9421)
    assert fresh.probe("b.test") is None  # answered: no more waiting in line
    async with sessions() as session:
        row = await session.get(Instance, "b.test")
        assert (row.signature_standard, row.signature_learned_at) == (RFC9421, clock())
    with pytest.raises(ValueError):
        SignatureKnocks(sessions, first_knock="hs2019")
