"""Posts copnet sends carry Lemmy's `language` object, from the author's chosen language or else
the CoP's, so Lemmy files them under the right language instead of "Undetermined".

Lemmy reads `language: Option<LanguageTag>` on a Note (comment) and a Page (post):
LemmyNet/lemmy crates/apub/objects/src/protocol/note.rs and page.rs, `LanguageTag
{identifier, name}` in crates/apub/objects/src/utils/protocol.rs (both fields required, not
skipped on error: a malformed one would lose the whole post). Lemmy's own documents show the
shape: tests/fixtures/activitypub/lemmy/objects/comment.json and page.json. Mastodon-shaped
copies (microblog servers) stay as they were: `contentMap` only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models import account_lifecycle as lifecycle
from models.actors import get_local_actor
from models.base import utcnow
from models.communities import get_community
from models.instances import Instance
from models.posts import Post
from server.appkeys import URLS, WRITE_SESSIONS
from server.as2.posts import lemmy_language
from server.services.post_editing import edit_own_post
from tests.server.test_account_settings import add_follower, sent
from tests.server.test_auth import make_member, start_web
from tests.server.test_feeds import publish
from tests.support.instances import add_community

LEMMY = Path(__file__).parents[1] / "fixtures" / "activitypub" / "lemmy" / "objects"
LEMMY_INBOX = "https://lemmy.example/inbox"  # shared inboxes, as add_follower sets them
MASTODON_INBOX = "https://mastodon.example/inbox"


@pytest.fixture
async def app(aiohttp_server, aiohttp_client, database_url):
    web = await start_web(aiohttp_server, aiohttp_client, database_url)
    app = web.client.server.app
    await make_member(app, "ada")
    await add_community(app, "wound_care", "Wound Care")
    await add_follower(app, "ada", "kim", "lemmy.example")
    await add_follower(app, "ada", "lou", "mastodon.example")
    async with app[WRITE_SESSIONS]() as session:
        session.add(Instance(domain="lemmy.example", software="lemmy"))
        session.add(Instance(domain="mastodon.example", software="mastodon"))
        await session.commit()
    return app


async def objects_by_inbox(app, type_: str) -> dict[str, dict]:
    found = {}
    for document, inboxes in await sent(app, type_):
        for inbox in inboxes:
            found[inbox] = document["object"]
    return found


async def set_languages(app, *, member: str | None, community: str) -> None:
    async with app[WRITE_SESSIONS]() as session:
        await lifecycle.set_language(session, (await get_local_actor(session, "ada")).id, member)
        (await get_community(session, "wound_care")).language = community
        await session.commit()


def test_our_language_object_has_lemmys_shape():
    for name in ("comment.json", "page.json"):
        theirs = json.loads((LEMMY / name).read_text())["language"]
        ours = lemmy_language(theirs["identifier"])
        assert ours == theirs  # {"identifier": "fr", "name": "Français"}, as Lemmy sends it


async def test_the_authors_language_goes_to_lemmy_and_mastodon_keeps_its_shape(app):
    await set_languages(app, member="cy", community="en")
    await publish(app, "ada", "wound_care", "Gofal clwyfau", "Helo")
    created = await objects_by_inbox(app, "Create")
    lemmy, mastodon = created[LEMMY_INBOX], created[MASTODON_INBOX]
    assert lemmy["language"] == {"identifier": "cy", "name": "Cymraeg"}
    assert set(lemmy["contentMap"]) == {"cy"}
    assert "language" not in mastodon
    assert set(mastodon["contentMap"]) == {"cy"}


async def test_without_a_chosen_language_the_cops_is_used_by_its_primary_subtag(app):
    await set_languages(app, member=None, community="en-GB")
    thread = await publish(app, "ada", "wound_care", "Honey", "Dressings")
    created = await objects_by_inbox(app, "Create")
    assert created[LEMMY_INBOX]["language"] == {"identifier": "en", "name": "English"}
    assert set(created[LEMMY_INBOX]["contentMap"]) == {"en-GB"}
    # Edits carry it too: Lemmy applies an Update's language like a Create's.
    async with app[WRITE_SESSIONS]() as session:
        await edit_own_post(
            session,
            app[URLS],
            post=await session.get(Post, thread),
            editor=await get_local_actor(session, "ada"),
            title="Honey, again",
            body_markdown="Dressings and burns",
            mentions=[],
            now=utcnow(),
        )
        await session.commit()
    updated = await objects_by_inbox(app, "Update")
    assert updated[LEMMY_INBOX]["language"] == {"identifier": "en", "name": "English"}


async def test_a_language_lemmy_cannot_name_is_left_out(app):
    await set_languages(app, member=None, community="tlh")
    await publish(app, "ada", "wound_care", "Qapla'", "batlh")
    created = await objects_by_inbox(app, "Create")
    assert "language" not in created[LEMMY_INBOX]
    assert set(created[LEMMY_INBOX]["contentMap"]) == {"tlh"}
