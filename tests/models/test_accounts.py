"""Members' accounts, web sessions, invitations and sign-up settings, on both databases."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import account_queries as accounts
from models import (
    community_approval,
    invite_queries,
    membership_queries,
    site_modes,
    stored_secrets,
    web_sessions,
)
from models.accounts import Account, Invite, WebSession
from models.actors import Actor, NameTaken, create_local_actor
from models.base import utcnow
from models.communities import create_community
from models.database import create_engine, session_factory
from models.follows import upsert_follow
from models.names import InvalidName
from models.policy import SiteSetting


@pytest.fixture
async def session(database_url):
    engine = create_engine(database_url)
    async with session_factory(engine)() as db:
        yield db
    await engine.dispose()


async def new_member(session, name="sam", **kwargs):
    account = await accounts.create_account(session, name, "hash-of-" + name, **kwargs)
    await session.commit()
    return account


async def test_an_account_is_a_person_actor_with_keys(session):
    account = await new_member(session, "sam", email=" Sam@Ward.Example ", display_name=" Sam ")
    actor = await session.get(Actor, account.actor_id)
    assert (actor.type, actor.local_name, actor.display_name) == ("Person", "sam", "Sam")
    assert "BEGIN PUBLIC KEY" in actor.public_key_pem
    assert actor.private_key_pem
    assert account.email == "sam@ward.example"
    assert account.is_admin is False
    found = await accounts.member_by_name(session, "SAM")
    assert found is not None and found.name == "sam"
    assert (await accounts.member_by_email(session, "SAM@ward.example")).actor.id == actor.id
    assert (await accounts.member_by_login(session, "@sam")).actor.id == actor.id
    assert (await accounts.member_by_login(session, "sam@ward.example")).actor.id == actor.id
    assert await accounts.member_by_login(session, "nobody") is None


async def test_names_are_shared_with_communities_and_validated(session):
    await create_community(session, "nursing", title="Nursing")
    await session.commit()
    with pytest.raises(NameTaken):
        await accounts.create_account(session, "nursing", "h")
    await session.rollback()
    for bad in ("Sam", "sam smith", "admin", ""):
        with pytest.raises(InvalidName):
            await accounts.create_account(session, bad, "h")
    assert await accounts.count_accounts(session) == 0


async def test_an_email_address_belongs_to_one_account(session):
    await new_member(session, "sam", email="sam@ward.example")
    with pytest.raises(accounts.EmailTaken):
        await accounts.create_account(session, "sam2", "h", email="SAM@ward.example")
    await session.rollback()
    # No half-made member: the check runs before the actor is created.
    assert await session.scalar(select(Actor).where(Actor.local_name == "sam2")) is None
    await new_member(session, "alex")  # no email is fine, for any number of members
    await new_member(session, "robin")


@pytest.mark.parametrize("bad", ["not-an-email", "a@b", "two words@x.org", "@x.org"])
def test_malformed_email_addresses_are_refused(bad):
    with pytest.raises(accounts.InvalidEmail):
        accounts.normalize_email(bad)


async def test_a_session_token_is_stored_only_as_its_hash(session):
    account = await new_member(session)
    token, row = await web_sessions.create_session(session, account.actor_id)
    await session.commit()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = list(await session.scalars(select(WebSession.token_hash)))
    assert token not in stored
    found = await web_sessions.session_by_token(session, token)
    assert found is not None
    assert found.member.name == "sam"
    assert found.web_session.csrf_token == row.csrf_token
    assert len(row.csrf_token) >= 32
    assert row.expires_at - row.created_at == timedelta(days=30)
    assert await web_sessions.session_by_token(session, token + "x") is None
    assert await web_sessions.session_by_token(session, "") is None


async def test_expired_sessions_are_refused_and_swept(session):
    account = await new_member(session)
    long_ago = utcnow() - timedelta(days=31)
    old, _ = await web_sessions.create_session(session, account.actor_id, now=long_ago)
    await session.commit()
    assert await web_sessions.session_by_token(session, old) is None
    fresh, _ = await web_sessions.create_session(session, account.actor_id)  # sweeps the old one
    await session.commit()
    swept = select(WebSession).where(WebSession.token_hash == stored_secrets.digest(old))
    assert await session.scalar(swept) is None
    assert await web_sessions.delete_session(session, fresh) is True
    await session.commit()
    assert await web_sessions.session_by_token(session, fresh) is None
    assert await web_sessions.delete_session(session, fresh) is False


async def test_an_invitation_works_once_and_is_stored_hashed(session):
    admin = await new_member(session, "admin_sam")
    code = await invite_queries.create_invite(session, created_by=admin.actor_id)
    await session.commit()
    assert code not in list(await session.scalars(select(Invite.code)))
    assert await invite_queries.invite_is_unused(session, code)
    assert await invite_queries.count_unused_invites(session) == 1
    first = await new_member(session, "alex")
    second = await new_member(session, "robin")
    # People retype codes: case, spaces and dashes do not matter.
    assert await invite_queries.redeem_invite(
        session, f" {code.upper().replace('-', ' ')} ", first.actor_id
    )
    await session.commit()
    assert not await invite_queries.redeem_invite(session, code, second.actor_id)
    assert not await invite_queries.redeem_invite(session, "nope-nope-nope-nope", second.actor_id)
    assert not await invite_queries.redeem_invite(session, "", second.actor_id)
    assert await invite_queries.count_unused_invites(session) == 0
    invite = await session.scalar(select(Invite))
    assert invite.used_by == first.actor_id and invite.used_at is not None


async def test_a_used_invitation_stays_used_when_its_member_is_deleted(session):
    code = await invite_queries.create_invite(session)
    member = await new_member(session, "alex")
    assert await invite_queries.redeem_invite(session, code, member.actor_id)
    await session.commit()
    await session.delete(await session.get(Actor, member.actor_id))
    await session.commit()
    session.expunge_all()  # the database cascaded the account away; forget our copy
    other = await new_member(session, "robin")
    assert not await invite_queries.redeem_invite(session, code, other.actor_id)


async def test_signup_and_cop_creation_settings(session):
    assert await site_modes.get_signup_mode(session) == "open"
    assert await site_modes.get_cop_creation(session) == "anyone"
    await site_modes.set_signup_mode(session, "invite")
    await site_modes.set_cop_creation(session, "approval")
    await session.commit()
    assert await site_modes.get_signup_mode(session) == "invite"
    assert await site_modes.get_cop_creation(session) == "approval"
    assert (await session.get(SiteSetting, "signup.mode")).value == "invite"
    assert (await session.get(SiteSetting, "communities.creation")).value == "approval"
    with pytest.raises(ValueError):
        await site_modes.set_signup_mode(session, "closed")
    with pytest.raises(ValueError):
        await site_modes.set_cop_creation(session, "nobody")


async def test_an_unknown_stored_setting_falls_back_to_the_strict_choice(session):
    session.add(SiteSetting(key="signup.mode", value="whatever"))
    session.add(SiteSetting(key="communities.creation", value="???"))
    await session.commit()
    assert await site_modes.get_signup_mode(session) == "invite"
    assert await site_modes.get_cop_creation(session) == "approval"


async def test_pending_communities_and_approval(session):
    pending = await create_community(session, "wound_care", title="Wound care")
    pending.status = "pending"
    await create_community(session, "nursing", title="Nursing")
    await session.commit()
    assert [c.actor.local_name for c in await community_approval.pending_communities(session)] == [
        "wound_care"
    ]
    assert await community_approval.approve_community(session, "wound_care") is True
    # already active:
    assert await community_approval.approve_community(session, "wound_care") is False
    assert await community_approval.approve_community(session, "nursing") is False
    assert await community_approval.approve_community(session, "nobody") is False
    await session.commit()
    assert await community_approval.pending_communities(session) == []


async def test_memberships_are_accepted_follows_of_active_groups(session):
    member = await new_member(session, "sam")
    nursing = await create_community(session, "nursing", title="Nursing")
    ethics = await create_community(session, "ethics", title="Care ethics")
    waiting = await create_community(session, "waiting", title="Awaiting approval")
    waiting.status = "pending"
    friend = await create_local_actor(session, "alex", "Person")
    for followed, state in (
        (nursing.actor_id, "accepted"),
        (ethics.actor_id, "pending"),
        (waiting.actor_id, "accepted"),
        (friend.id, "accepted"),
    ):
        await upsert_follow(
            session,
            followed_id=followed,
            follower_id=member.actor_id,
            state=state,
            activity_ap_id=None,
        )
    await session.commit()
    groups = await membership_queries.memberships(session, member.actor_id)
    assert [group.local_name for group in groups] == ["nursing"]
    assert await membership_queries.count_following(session, member.actor_id) == 3


async def test_set_admin_and_record_login(session):
    account = await new_member(session, "sam")
    assert await accounts.set_admin(session, "sam") is True
    assert await accounts.set_admin(session, "nobody") is False
    await accounts.record_login(session, account, new_password_hash="new-hash")
    await session.commit()
    stored = await session.scalar(select(Account).execution_options(populate_existing=True))
    assert stored.is_admin is True
    assert stored.password_hash == "new-hash"
    assert stored.last_login_at is not None
