"""Federation policy storage: the mode, domain entries and their canonical form."""

from __future__ import annotations

import pytest

from models.database import create_engine, session_factory
from models.policy import SiteSetting
from models.policy_queries import (
    MODE_KEY,
    InvalidDomain,
    PolicySnapshot,
    get_mode,
    list_domains,
    load_policy,
    normalize_domain,
    remove_domain,
    set_domain,
    set_mode,
)


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("example.org", "example.org"),
        ("  Example.ORG.  ", "example.org"),
        ("partner.example:8443", "partner.example"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.Example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("localhost", "localhost"),
        ("192.0.2.7", "192.0.2.7"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("my_host.example", "my_host.example"),
    ],
)
def test_domains_are_stored_in_one_canonical_form(given, canonical):
    assert normalize_domain(given) == canonical


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("https://partner.example/users/bob", "did you mean partner.example?"),
        ("partner.example/users", "no paths"),
        ("bob@partner.example", "no paths, users"),
        ("partner example", "no paths, users or spaces"),
        ("*.partner.example", "not a valid domain"),
        ("-partner.example", "not a valid domain"),
        ("partner..example", "not a valid domain"),
        ("partner.example:port", "not a valid domain"),
        ("a" * 64 + ".example", "not a valid domain"),
    ],
)
def test_invalid_domains_are_refused_with_a_clear_message(given, message):
    with pytest.raises(InvalidDomain) as caught:
        normalize_domain(given)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


async def test_mode_defaults_to_open_and_can_change(sessions):
    async with sessions() as session:
        assert await get_mode(session) == "open"
        await set_mode(session, "allowlist")
        await session.commit()
    async with sessions() as session:
        assert await get_mode(session) == "allowlist"
        await set_mode(session, "blocklist")
        await session.commit()
    async with sessions() as session:
        assert await get_mode(session) == "blocklist"


async def test_unknown_mode_is_refused(sessions):
    async with sessions() as session:
        with pytest.raises(ValueError, match="unknown federation mode"):
            await set_mode(session, "closed")


async def test_a_stored_mode_nobody_knows_fails_closed(sessions):
    async with sessions() as session:
        session.add(SiteSetting(key=MODE_KEY, value="bogus"))
        await session.commit()
    async with sessions() as session:
        assert await get_mode(session) == "allowlist"


async def test_a_domain_has_one_entry_which_the_last_decision_replaces(sessions):
    async with sessions() as session:
        await set_domain(session, "Partner.Example", "allow", "our partner")
        await session.commit()
    async with sessions() as session:
        entry = await set_domain(session, "partner.example.", "block", " spam ")
        await session.commit()
    assert (entry.domain, entry.action, entry.reason) == ("partner.example", "block", "spam")
    async with sessions() as session:
        entries = await list_domains(session)
    assert [(e.domain, e.action, e.reason) for e in entries] == [
        ("partner.example", "block", "spam")
    ]
    assert entries[0].created_at.tzinfo is not None


async def test_unknown_action_is_refused(sessions):
    async with sessions() as session:
        with pytest.raises(ValueError, match="unknown action"):
            await set_domain(session, "partner.example", "silence")


async def test_entries_list_alphabetically_and_can_be_removed(sessions):
    async with sessions() as session:
        for domain in ("zeta.example", "alpha.example", "mid.example"):
            await set_domain(session, domain, "allow")
        await session.commit()
    async with sessions() as session:
        assert [e.domain for e in await list_domains(session)] == [
            "alpha.example",
            "mid.example",
            "zeta.example",
        ]
        assert await remove_domain(session, "MID.example") is True
        assert await remove_domain(session, "never.example") is False
        await session.commit()
    async with sessions() as session:
        assert [e.domain for e in await list_domains(session)] == ["alpha.example", "zeta.example"]


async def test_snapshot_holds_mode_allows_and_blocks_with_reasons(sessions):
    async with sessions() as session:
        assert await load_policy(session) == PolicySnapshot()
        await set_mode(session, "allowlist")
        await set_domain(session, "friend.example", "allow")
        await set_domain(session, "bücher.example", "allow")
        await set_domain(session, "spam.example", "block", "spam")
        await session.commit()
    async with sessions() as session:
        snapshot = await load_policy(session)
    assert snapshot.mode == "allowlist"
    assert snapshot.allowed == {"friend.example", "xn--bcher-kva.example"}
    assert dict(snapshot.blocked) == {"spam.example": "spam"}
    with pytest.raises(TypeError):
        snapshot.blocked["x.example"] = "mutated"  # type: ignore[index]
