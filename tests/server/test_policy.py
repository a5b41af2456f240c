"""The federation policy decision, and its cached snapshot on both databases."""

from __future__ import annotations

import asyncio
import itertools
from types import MappingProxyType

import pytest

import server.peers.policy
from models.database import create_engine, session_factory
from models.policy_queries import PolicySnapshot, set_domain, set_mode
from server.peers.policy import DomainBlocked, FederationPolicy, block_reason, is_allowed

MODES = ("open", "blocklist", "allowlist")
HOST = "forum.partner.example"
# Where an entry can sit relative to HOST: on it, on a parent, on a sibling (never matches),
# or on a name that merely ends with the same letters (never matches).
PLACES = {
    "none": None,
    "exact": "forum.partner.example",
    "parent": "partner.example",
    "tld": "example",
    "sibling": "chat.partner.example",
    "suffix-lookalike": "tner.example",
}
COVERING = {"exact", "parent", "tld"}


def snapshot(mode: str, allow: str | None = None, block: str | None = None) -> PolicySnapshot:
    return PolicySnapshot(
        mode=mode,
        allowed=frozenset([allow] if allow else []),
        blocked=MappingProxyType({block: "because"} if block else {}),
    )


def expected(mode: str, allow_place: str, block_place: str) -> bool:
    """The rule, stated independently of the implementation."""
    if block_place in COVERING:
        return False  # a block always beats an allow
    if mode in ("open", "blocklist"):
        return True
    return allow_place in COVERING


@pytest.mark.parametrize(
    ("mode", "allow_place", "block_place"), list(itertools.product(MODES, PLACES, PLACES))
)
def test_every_combination_of_mode_allow_and_block(mode, allow_place, block_place):
    policy = snapshot(mode, PLACES[allow_place], PLACES[block_place])
    assert is_allowed(policy, HOST) is expected(mode, allow_place, block_place)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("entry", ["none", "allow", "block", "both"])
def test_the_local_domain_is_always_allowed(mode, entry):
    local = "cops.example"
    policy = snapshot(
        mode,
        allow=local if entry in ("allow", "both") else None,
        block=local if entry in ("block", "both") else None,
    )
    assert is_allowed(policy, local, is_local=True)
    # ...but only this server itself: its host on another port meets the policy like any other.
    other_expected = (mode != "allowlist" and entry == "none") or entry == "allow"
    assert is_allowed(policy, local, is_local=False) is other_expected


def test_the_most_specific_block_gives_the_reason():
    policy = PolicySnapshot(
        mode="open", blocked=MappingProxyType({"example": "tld", "partner.example": "specific"})
    )
    assert block_reason(policy, HOST) == "specific"
    assert block_reason(policy, "other.example") == "tld"
    assert block_reason(policy, "example.org") is None


def test_blocked_message_names_the_domain_not_the_reason():
    error = DomainBlocked("spam.example", "internal note")
    assert str(error) == "spam.example is blocked by this Network's federation policy"
    assert (error.domain, error.reason) == ("spam.example", "internal note")


# --- FederationPolicy on a real database ----------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def policy(sessions, clock):
    return FederationPolicy(sessions, local_domain="cops.example:8443", ttl=5.0, clock=clock)


async def change(sessions, *, mode=None, **entries):
    async with sessions() as session:
        if mode:
            await set_mode(session, mode)
        for domain, action in entries.items():
            await set_domain(session, domain.replace("_", "."), action, f"{action} reason")
        await session.commit()


async def test_open_by_default(policy):
    await policy.check_domain("anyone.example")
    await policy.check_urls(["https://anyone.example/users/a", None])


async def test_blocked_domain_and_its_subdomains_are_refused(sessions, policy):
    await change(sessions, spam_example="block")
    for host in ("spam.example", "SPAM.example.", "spam.example:443", "a.b.spam.example"):
        with pytest.raises(DomainBlocked) as caught:
            await policy.check_domain(host)
        assert caught.value.reason == "block reason"
        assert caught.value.domain.endswith("spam.example")
    await policy.check_domain("notspam.example")


async def test_allowlist_lets_only_allowed_domains_and_the_local_one(sessions, policy):
    await change(sessions, mode="allowlist", partner_example="allow")
    await policy.check_domain("partner.example")
    await policy.check_domain("social.partner.example")
    await policy.check_domain("cops.example:8443")
    await policy.check_urls(["https://cops.example:8443/c/nursing"])
    with pytest.raises(DomainBlocked) as caught:
        await policy.check_domain("stranger.example")
    assert caught.value.reason == "not on the allowlist"


async def test_this_host_on_another_port_is_another_server(sessions, policy):
    """Same server = host and port (federation.origin): a partner on cops.example:9443 is not us."""
    await change(sessions, mode="allowlist", partner_example="allow")
    for other in ("https://cops.example:9443/users/a", "https://cops.example/users/a"):
        with pytest.raises(DomainBlocked) as caught:
            await policy.check_urls([other])
        assert caught.value.reason == "not on the allowlist"
    with pytest.raises(DomainBlocked):
        await policy.check_domain("cops.example:9443")
    await change(sessions, mode="open", cops_example="block")
    policy.invalidate()
    await policy.check_urls(["https://cops.example:8443/c/nursing"])  # ourselves, never blocked
    with pytest.raises(DomainBlocked):
        await policy.check_urls(["https://cops.example:9443/c/nursing"])


async def test_idna_hosts_match_entries_in_either_spelling(sessions, policy):
    await change(sessions, **{"bücher_example": "block"})
    with pytest.raises(DomainBlocked):
        await policy.check_domain("xn--bcher-kva.example")
    with pytest.raises(DomainBlocked):
        await policy.check_urls(["https://BÜCHER.example/users/a"])


async def test_urls_are_judged_by_host_and_unreadable_ones_fail_closed(sessions, policy):
    await change(sessions, spam_example="block")
    await policy.check_urls([])
    with pytest.raises(DomainBlocked):
        await policy.check_urls(["https://ok.example/a", "https://x.spam.example:8443/inbox"])
    for bad in ("not a url", "/relative/path", "https://"):
        with pytest.raises(DomainBlocked):
            await policy.check_urls([bad])
    with pytest.raises(DomainBlocked):
        await policy.check_domain("https://ok.example/a")


async def test_snapshot_is_reused_until_the_ttl_passes(sessions, policy, clock, monkeypatch):
    loads = 0
    real_load = server.peers.policy.load_policy

    async def counting_load(session):
        nonlocal loads
        loads += 1
        return await real_load(session)

    monkeypatch.setattr(server.peers.policy, "load_policy", counting_load)
    await policy.check_domain("spam.example")
    await change(sessions, spam_example="block")
    clock.now += 4.9
    await policy.check_domain("spam.example")  # still the old snapshot: no query per request
    assert loads == 1
    clock.now += 0.1
    with pytest.raises(DomainBlocked):
        await policy.check_domain("spam.example")
    assert loads == 2


async def test_invalidate_forces_a_reload(sessions, policy):
    await policy.check_domain("spam.example")
    await change(sessions, spam_example="block")
    policy.invalidate()
    with pytest.raises(DomainBlocked):
        await policy.check_domain("spam.example")


async def test_concurrent_checks_share_one_reload(policy, monkeypatch):
    loads = 0
    started, release = asyncio.Event(), asyncio.Event()
    real_load = server.peers.policy.load_policy

    async def slow_load(session):
        nonlocal loads
        loads += 1
        started.set()
        await release.wait()
        return await real_load(session)

    monkeypatch.setattr(server.peers.policy, "load_policy", slow_load)
    checks = [asyncio.create_task(policy.check_domain(f"h{i}.example")) for i in range(20)]
    await started.wait()  # one check is loading; the other 19 queue behind it
    release.set()
    await asyncio.gather(*checks)
    assert loads == 1
