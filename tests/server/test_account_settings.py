"""A member's self-service: password, picture, language, data export, leaving the Network."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from datetime import timedelta

import aiohttp
import pytest
from PIL import Image
from sqlalchemy import select

from models import account_lifecycle as lifecycle
from models import account_queries as accounts
from models import mail_queries
from models.accounts import WebSession
from models.actors import Actor
from models.base import utcnow
from models.communities import get_community
from models.follows import upsert_follow
from models.mail import DEFAULT_DELIVERY, IMMEDIATE, NEVER, RESET, WEEKLY
from models.notification_queries import add_notification, mark_all_read
from models.notifications import LIKE, MENTION, NEW_THREAD, REPLY
from models.outgoing import Delivery, OutgoingActivity
from models.posts import Post
from models.watching import set_watching, subscribe
from server.appkeys import SESSIONS, URLS, WRITE_SESSIONS
from server.services.posts import publish_post
from tests.server.test_auth import HTML, PASSWORD, TOKEN, make_member, start_web
from tests.support.instances import add_community

AS2 = {"Accept": "application/activity+json"}
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url, tmp_path):
    return await start_web(
        aiohttp_server, aiohttp_client, database_url, media_dir=str(tmp_path / "media")
    )


async def add_follower(
    app, followed_name: str, username: str = "kim", domain: str = "social.example"
) -> None:
    """A remote Person following a local actor."""
    async with app[WRITE_SESSIONS]() as session:
        followed = await session.scalar(select(Actor).where(Actor.local_name == followed_name))
        follower = Actor(
            type="Person",
            ap_id=f"https://{domain}/users/{username}",
            username=username,
            domain=domain,
            inbox_url=f"https://{domain}/users/{username}/inbox",
            shared_inbox_url=f"https://{domain}/inbox",
            public_key_pem="-",
        )
        session.add(follower)
        await session.flush()
        await upsert_follow(
            session,
            followed_id=followed.id,
            follower_id=follower.id,
            state="accepted",
            activity_ap_id=f"https://{domain}/follows/{username}",
        )
        await session.commit()


async def sent(app, type_: str) -> list[tuple[dict, list[str]]]:
    """Every queued activity of a type, with its inboxes."""
    found = []
    async with app[SESSIONS]() as session:
        for activity in await session.scalars(
            select(OutgoingActivity).where(OutgoingActivity.type == type_)
        ):
            inboxes = list(
                await session.scalars(
                    select(Delivery.inbox_url).where(Delivery.activity_id == activity.id)
                )
            )
            found.append((json.loads(activity.body), inboxes))
    return found


async def upload_picture(web, data: bytes, filename: str = "me.png", content_type="image/png"):
    token = await web.token("/settings/profile")
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("picture", data, filename=filename, content_type=content_type)
    return await web.client.post(
        "/settings/picture", data=form, headers={"Accept": HTML}, allow_redirects=False
    )


def photo_with_exif(width: int = 1200, height: int = 800) -> bytes:
    image = Image.new("RGB", (width, height), (200, 30, 40))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x9286] = "ward 7 bed 3"  # UserComment-ish payload
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes(), comment=b"patient name here")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions (a decompression bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# --- password ---------------------------------------------------------------------------------


async def test_changing_the_password_needs_the_current_one_and_ends_other_sessions(
    web, aiohttp_client
):
    await web.signup("sam")
    server = web.client.server
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[str(server.make_url("/"))])
    other = await aiohttp_client(server, cookie_jar=jar)  # another browser, signed in too
    token_page = await other.get("/login", headers={"Accept": HTML})
    other_token = TOKEN.search(await token_page.text()).group(1)
    signed = await other.post(
        "/login",
        data={"login": "sam", "password": PASSWORD, "next": "", "csrf_token": other_token},
        allow_redirects=False,
    )
    assert signed.status == 303

    token = await web.token("/settings/password")
    wrong = await web.post(
        "/settings/password",
        {
            "current_password": "not my password at all",
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
        token=token,
    )
    assert wrong.status == 400
    assert "That is not your current password." in await wrong.text()

    weak = await web.post(
        "/settings/password",
        {"current_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"},
        token=token,
    )
    assert weak.status == 400 and "at least 10 characters" in await weak.text()

    done = await web.post(
        "/settings/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
        token=token,
    )
    assert done.status == 303, await done.text()
    assert done.headers["Location"] == "/settings/password?saved=1"
    # This browser stays signed in (with a new session); the other one is signed out.
    page = await web.client.get("/settings/password?saved=1", headers={"Accept": HTML})
    assert page.status == 200 and "Your password is changed" in await page.text()
    elsewhere = await other.get("/settings/profile", allow_redirects=False)
    assert elsewhere.status == 302 and elsewhere.headers["Location"].startswith("/login")
    async with web.app[SESSIONS]() as session:
        member = await accounts.member_by_name(session, "sam")
        rows = list(
            await session.scalars(
                select(WebSession).where(WebSession.account_id == member.account.actor_id)
            )
        )
    assert len(rows) == 1

    web.forget_cookies()
    assert (await web.login("sam", PASSWORD)).status == 400
    assert (await web.login("sam", NEW_PASSWORD)).status == 303


async def test_wrong_current_passwords_are_rate_limited_like_sign_in(web):
    await web.signup("sam")
    token = await web.token("/settings/password")
    fields = {
        "current_password": "guess number one",
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    statuses = [
        (await web.post("/settings/password", fields, token=token)).status for _ in range(6)
    ]
    assert statuses[:5] == [400] * 5
    assert statuses[5] == 429
    # Even the right password waits now: guessing cannot go on in parallel with it.
    right = await web.post(
        "/settings/password", {**fields, "current_password": PASSWORD}, token=token
    )
    assert right.status == 429
    assert "Retry-After" in right.headers


async def test_a_password_change_without_the_token_is_refused(web):
    await web.signup("sam")
    response = await web.client.post(
        "/settings/password",
        data={
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
        allow_redirects=False,
    )
    assert response.status == 403


# --- picture ----------------------------------------------------------------------------------


async def test_a_picture_is_reencoded_stripped_served_and_federated(web):
    await web.signup("sam")
    await add_follower(web.app, "sam")
    response = await upload_picture(web, photo_with_exif(), "holiday.jpg", "image/jpeg")
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/settings/profile?saved=picture"

    person = await (await web.client.get("/u/sam", headers=AS2)).json(content_type=None)
    icon = person["icon"]
    # The icon's URL names the picture's digest: Mastodon (app/services/activitypub/
    # process_account_service.rb, `avatar_remote_url = image_url('icon')`, re-downloaded only
    # when the URL changes) and GoToSocial (internal/federation/dereferencing/account.go,
    # `if latestAcc.AvatarRemoteURL != account.AvatarRemoteURL`) fetch a new avatar only then.
    assert icon["mediaType"] == "image/png"
    assert "/u/sam/picture/" in icon["url"] and icon["url"].endswith(".png")
    served = await web.client.get(icon["url"].replace("https://copnet.test", ""))
    assert served.status == 200
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    body = await served.read()
    assert b"SecretCameraMaker" not in body and b"patient name" not in body
    with Image.open(io.BytesIO(body)) as image:
        assert image.format == "PNG"
        assert image.size == (400, 400)  # cropped square and made smaller
        assert not image.getexif()
        assert "exif" not in image.info and "comment" not in image.info

    updates = await sent(web.app, "Update")
    assert len(updates) == 1
    update, inboxes = updates[0]
    assert update["object"]["icon"]["url"] == icon["url"]
    assert inboxes == ["https://social.example/inbox"]

    page = await (await web.client.get("/u/sam", headers={"Accept": HTML})).text()
    assert icon["url"].replace("https://copnet.test", "") in page

    removed = await web.post("/settings/picture/remove", {}, form="/settings/profile")
    assert removed.status == 303
    person = await (await web.client.get("/u/sam", headers=AS2)).json(content_type=None)
    assert person["icon"]["url"].endswith("/u/sam/icon.png")
    # The old picture is no longer served as the member's.
    gone = await web.client.get(icon["url"].replace("https://copnet.test", ""))
    assert gone.status == 404


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"just some words, not a picture\n", "me.png", "not a picture we can use"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "me.svg",
            "SVG and other drawings are not accepted",
        ),
        (b"%PDF-1.4\n%...", "me.pdf", "not a picture we can use"),
        (png_header_only(50_000, 50_000), "bomb.png", "too many pixels to open safely"),
        (png_header_only(7_000, 7_000), "big.png", "too many pixels to open safely"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "broken.png", "picture"),
    ],
)
async def test_pictures_that_are_not_safe_raster_images_are_refused(web, data, filename, message):
    await web.signup("sam")
    response = await upload_picture(web, data, filename)
    assert response.status == 400
    text = await response.text()
    assert "Your picture was not changed." in text
    assert message in text
    person = await (await web.client.get("/u/sam", headers=AS2)).json(content_type=None)
    assert person["icon"]["url"].endswith("/u/sam/icon.png")


async def test_a_picture_upload_without_a_token_is_refused_and_not_stored(web, tmp_path):
    await web.signup("sam")
    form = aiohttp.FormData()
    form.add_field("picture", photo_with_exif(), filename="a.jpg", content_type="image/jpeg")
    response = await web.client.post("/settings/picture", data=form, allow_redirects=False)
    assert response.status == 403
    assert not list((tmp_path / "media").glob("??/??/*"))


# --- language ---------------------------------------------------------------------------------


async def test_the_language_of_posts_is_stored_for_the_publisher(web):
    await web.signup("sam")
    token = await web.token("/settings/profile")
    saved = await web.post(
        "/settings/profile", {"display_name": "Sam", "bio": "", "language": "cy"}, token=token
    )
    assert saved.status == 303
    page = await (await web.client.get("/settings/profile", headers={"Accept": HTML})).text()
    assert '<option value="cy" lang="cy" selected>' in page
    async with web.app[SESSIONS]() as session:
        member = await accounts.member_by_name(session, "sam")
        assert await lifecycle.post_language(session, member.actor.id) == "cy"
    bad = await web.post(
        "/settings/profile", {"display_name": "Sam", "bio": "", "language": "xx-evil"}, token=token
    )
    assert bad.status == 400
    assert "Choose one of the languages" in await bad.text()
    cleared = await web.post(
        "/settings/profile", {"display_name": "Sam", "bio": "", "language": ""}, token=token
    )
    assert cleared.status == 303
    async with web.app[SESSIONS]() as session:
        assert await lifecycle.post_language(session, member.actor.id) is None


# --- export -----------------------------------------------------------------------------------


async def _post_in_cop(app, author_name: str, cop: str, title: str, body: str) -> int:
    async with app[WRITE_SESSIONS]() as session:
        author = await session.scalar(select(Actor).where(Actor.local_name == author_name))
        community = await get_community(session, cop)
        post = await publish_post(
            session,
            app[URLS],
            author=author,
            group=community.actor,
            community=community,
            title=title,
            body_markdown=body,
            parent=None,
            now=utcnow(),
        )
        await session.commit()
        return post.id


async def test_the_export_holds_posts_in_json_and_markdown(web):
    await web.signup("sam")
    await add_community(web.app, "wound_care", "Wound Care")
    await _post_in_cop(web.app, "sam", "wound_care", "Honey dressings", "Has anyone *audited*?")
    response = await web.client.get("/settings/export")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))
    names = set(archive.namelist())
    assert {"profile.json", "posts.json", "posts.md", "documents.json", "rsvps.json"} <= names
    assert {
        "notifications.json",
        "watched_threads.json",
        "followed_cops.json",
        "mail_preferences.json",
    } <= names
    profile = json.loads(archive.read("profile.json"))
    assert profile["name"] == "sam" and profile["id"] == "https://copnet.test/u/sam"
    posts = json.loads(archive.read("posts.json"))
    assert posts[0]["title"] == "Honey dressings"
    assert posts[0]["markdown"] == "Has anyone *audited*?"
    assert posts[0]["cop"]["id"] == "https://copnet.test/c/wound_care"
    assert "## Honey dressings" in archive.read("posts.md").decode()

    web.forget_cookies()
    visitor = await web.client.get("/settings/export", allow_redirects=False)
    assert visitor.status == 302  # visitors are sent to sign in; nobody exports another's data


async def test_the_export_holds_what_keeps_the_member_in_touch_and_nobody_elses(web):
    await web.signup("sam")
    kim = (await make_member(web.app, "kim")).actor_id
    wound_care = (await add_community(web.app, "wound_care", "Wound Care")).actor_id
    falls = (await add_community(web.app, "falls", "Falls Prevention")).actor_id
    honey = await _post_in_cop(web.app, "kim", "wound_care", "Honey dressings", "Audited?")
    quiet = await _post_in_cop(web.app, "kim", "wound_care", "Quiet thread", "Anyone?")
    removed = await _post_in_cop(web.app, "kim", "falls", "Patient named here", "Oops")
    earlier, later = utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)
    async with web.app[WRITE_SESSIONS]() as session:
        sam = (await accounts.member_by_name(session, "sam")).actor.id
        tell = dict(actor_id=kim, community_id=wound_care)
        await add_notification(
            session, account_id=sam, kind=REPLY, post_id=honey, now=earlier, **tell
        )
        await mark_all_read(session, sam, later)
        await add_notification(session, account_id=sam, kind=LIKE, post_id=quiet, now=later, **tell)
        await add_notification(session, account_id=kim, kind=MENTION, post_id=honey, now=later)
        await set_watching(session, sam, honey, True)
        await set_watching(session, sam, quiet, False)  # unwatched: not a thread they watch
        await set_watching(session, sam, removed, True)
        await set_watching(session, kim, quiet, True)
        (await session.get(Post, removed)).removed_at = later
        await subscribe(session, sam, falls)
        await subscribe(session, kim, wound_care)
        await mail_queries.set_preferences(session, sam, {LIKE: IMMEDIATE, NEW_THREAD: WEEKLY})
        await mail_queries.set_network_digest(session, sam, True)
        await mail_queries.set_preferences(session, kim, {REPLY: NEVER})
        secrets = [
            (await mail_queries.profile(session, sam)).unsubscribe_key,
            await mail_queries.issue_token(session, sam, RESET, "sam@ward.example"),
        ]
        await session.commit()
    response = await web.client.get("/settings/export")
    archive = zipfile.ZipFile(io.BytesIO(await response.read()))

    def part(name):
        return json.loads(archive.read(name))

    thread = "https://copnet.test/t/{}".format
    assert part("notifications.json") == [
        {"kind": REPLY, "created": earlier.isoformat(), "read": True, "link": thread(honey)},
        {"kind": LIKE, "created": later.isoformat(), "read": False, "link": thread(quiet)},
    ]
    [watched, gone] = part("watched_threads.json")
    assert watched["title"] == "Honey dressings" and watched["id"] == thread(honey)
    assert watched["cop"] == {"name": "Wound Care", "id": "https://copnet.test/c/wound_care"}
    assert gone["id"] == thread(removed) and gone["title"] is None  # removed: no words kept
    [followed] = part("followed_cops.json")
    assert followed["name"] == "Falls Prevention" and followed["id"].endswith("/c/falls")
    mail = part("mail_preferences.json")
    assert mail["network_digest"] is True
    assert mail["notifications"] == {
        **DEFAULT_DELIVERY,
        LIKE: IMMEDIATE,
        NEW_THREAD: WEEKLY,
    }
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert not [secret for secret in secrets if secret.encode() in everything]
    assert b"Patient named here" not in everything


# --- leaving ----------------------------------------------------------------------------------


async def _delete(web, *, password=PASSWORD, content="remove", confirm="sam"):
    token = await web.token("/settings/delete")
    return await web.post(
        "/settings/delete",
        {"current_password": password, "content": content, "confirm": confirm},
        token=token,
    )


async def test_deleting_needs_the_password_and_the_typed_name(web):
    await web.signup("sam")
    page = await (await web.client.get("/settings/delete", headers={"Accept": HTML})).text()
    assert "This cannot be undone" in page
    wrong = await _delete(web, password="not the password")
    assert wrong.status == 400 and "That is not your current password." in await wrong.text()
    unconfirmed = await _delete(web, confirm="")
    assert unconfirmed.status == 400 and "Type your name, sam, to confirm." in (
        await unconfirmed.text()
    )
    odd = await _delete(web, content="everything")
    assert odd.status == 400
    async with web.app[SESSIONS]() as session:
        assert await accounts.member_by_name(session, "sam") is not None


@pytest.mark.parametrize("content", ["remove", "anonymise"])
async def test_deleting_an_account_federates_and_ends_everything(web, content):
    await web.signup("sam")
    await add_community(web.app, "wound_care", "Wound Care")
    await add_follower(web.app, "sam", "kim")
    await add_follower(web.app, "wound_care", "lee", "lemmy.example")
    async with web.app[WRITE_SESSIONS]() as session:
        sam = await session.scalar(select(Actor).where(Actor.local_name == "sam"))
        cop = await get_community(session, "wound_care")
        await upsert_follow(
            session,
            followed_id=cop.actor_id,
            follower_id=sam.id,
            state="accepted",
            activity_ap_id=None,
        )
        await session.commit()
    post_id = await _post_in_cop(web.app, "sam", "wound_care", "Honey", "Patient details here")

    response = await _delete(web, content=content)
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/goodbye"

    deletes = await sent(web.app, "Delete")
    assert len(deletes) == 1
    document, inboxes = deletes[0]
    # Mastodon (app/lib/activitypub/activity/delete.rb, delete_person) and Lemmy
    # (crates/apub/src/activities/deletion/delete_user.rs) take a Delete whose object is the
    # actor itself, addressed to Public.
    assert document["actor"] == document["object"] == "https://copnet.test/u/sam"
    assert "https://www.w3.org/ns/activitystreams#Public" in document["to"]
    # kim follows sam; lee follows the CoP sam belongs to.
    assert sorted(inboxes) == ["https://lemmy.example/inbox", "https://social.example/inbox"]

    gone = await web.client.get("/u/sam", headers=AS2)
    assert gone.status == 410
    assert (await web.client.get("/settings/profile", allow_redirects=False)).status == 302
    web.forget_cookies()
    assert (await web.login("sam", PASSWORD)).status == 400
    # The name stays taken: nobody can sign up as sam and pose as them.
    again = await web.signup("sam")
    assert again.status == 400

    async with web.app[SESSIONS]() as session:
        post = await session.get(Post, post_id)
        author = await session.get(Actor, post.author_id)
        assert await accounts.member_by_name(session, "sam") is None
        sessions_left = await session.scalar(select(WebSession.token_hash))
    if content == "remove":
        assert post.deleted_at is not None and post.source == ""
    else:
        assert post.deleted_at is None and post.source == "Patient details here"
        assert author.local_name == lifecycle.FORMER_MEMBER
        assert author.display_name == "Former member"
    assert sessions_left is None


async def test_last_seen_is_written_at_most_once_an_hour(web):
    await web.signup("sam")
    welcome = await web.client.get("/welcome", headers={"Accept": HTML})
    assert "Join the communities of practice" in await welcome.text()
    async with web.app[WRITE_SESSIONS]() as session:
        member = await accounts.member_by_name(session, "sam")
        first = member.account.last_seen_at
        assert first is not None  # the welcome page after sign-up counted
        earlier = utcnow() - timedelta(hours=3)
        assert await lifecycle.touch_last_seen(session, member.account.actor_id, earlier)
        assert not await lifecycle.touch_last_seen(session, member.account.actor_id, utcnow())
        await session.commit()
    rows = await _list(web.app)
    assert [row.name for row in rows] == ["sam"]
    assert rows[0].last_seen_at is not None


async def _list(app):
    async with app[SESSIONS]() as session:
        return await lifecycle.list_members(session)
