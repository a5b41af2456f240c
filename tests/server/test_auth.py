"""Joining, signing in and out, the session cookie, login rate limiting, profiles, error pages."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from http.cookies import SimpleCookie

import aiohttp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from models import account_queries as accounts
from models import invite_queries, site_modes, web_sessions
from models.actors import Actor
from models.follows import upsert_follow
from models.outgoing import Delivery, OutgoingActivity
from server.app import create_app
from server.appkeys import LOGIN_LIMITER, SESSIONS, WRITE_SESSIONS
from server.http.ratelimit import LoginRateLimiter, SlidingWindow
from server.http.ratelimit_store import MemoryHits
from server.services import passwords
from server.web.auth import safe_next
from tests.support.instances import settings_for

PASSWORD = "tea and biscuits at ten"
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    """Monotonic seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Web:
    """A browser-like client of a copnet with the website wired in."""

    client: object
    clock: FakeClock

    @property
    def app(self):
        return self.client.app

    async def token(self, path: str = "/login") -> str:
        response = await self.client.get(path, headers={"Accept": HTML})
        assert response.status == 200, await response.text()
        found = TOKEN.search(await response.text())
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    async def post(self, path: str, data: dict, *, token: str | None = None, form: str = "/login"):
        """POST a form the way a browser would, with the token a page gave it."""
        fields = dict(data)
        fields.setdefault("csrf_token", token or await self.token(form))
        return await self.client.post(
            path, data=fields, headers={"Accept": HTML}, allow_redirects=False
        )

    async def signup(self, name: str = "sam", password: str = PASSWORD, **fields):
        data = {
            "name": name,
            "display_name": fields.pop("display_name", name.title()),
            "email": fields.pop("email", ""),
            "password": password,
            "password_confirm": fields.pop("password_confirm", password),
            **fields,
        }
        return await self.post("/signup", data, form="/signup")

    async def login(self, login: str = "sam", password: str = PASSWORD, next_path: str = ""):
        data = {"login": login, "password": password, "next": next_path}
        return await self.post("/login", data)

    async def logout(self):
        return await self.post("/logout", {}, form="/settings/profile")

    def forget_cookies(self) -> None:
        self.client.session.cookie_jar.clear()


def set_cookies(response) -> dict[str, dict]:
    """Each Set-Cookie of a response: name -> {value, attributes (lower-case)}."""
    found = {}
    for header in response.headers.getall("Set-Cookie", []):
        jar = SimpleCookie()
        jar.load(header)
        for name, morsel in jar.items():
            attributes = {key: morsel[key] for key in morsel.keys() if morsel[key]}
            found[name] = {"value": morsel.value, "raw": header.lower(), **attributes}
    return found


def fast_argon2(monkeypatch) -> None:
    """argon2id with tiny parameters: the same code path, a hundred times faster."""
    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    )


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    fast_argon2(monkeypatch)


async def start_web(
    aiohttp_server, aiohttp_client, database_url, *, url="https://copnet.test", **settings
):
    """copnet as `copnet serve` builds it."""
    app = create_app(settings_for(database_url, url=url, **settings))
    clock = FakeClock()
    app[LOGIN_LIMITER].clock = clock
    server = await aiohttp_server(app)
    # The test server is plain http; let the jar send Secure cookies back to it anyway.
    jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[str(server.make_url("/"))])
    client = await aiohttp_client(server, cookie_jar=jar)
    return Web(client=client, clock=clock)


@pytest.fixture
async def web(aiohttp_server, aiohttp_client, database_url):
    return await start_web(aiohttp_server, aiohttp_client, database_url)


async def make_member(app, name: str, *, admin: bool = False, email: str | None = None):
    """A member created directly in the database (password: PASSWORD)."""
    async with app[WRITE_SESSIONS]() as session:
        account = await accounts.create_account(
            session,
            name,
            passwords.hash_password(PASSWORD),
            email=email,
            is_admin=admin,
            display_name=name.title(),
        )
        await session.commit()
    return account


# --- sign up ----------------------------------------------------------------------------------


async def test_signup_signs_in_with_a_safe_cookie_and_the_profile_shows(web):
    page = await web.client.get("/signup", headers={"Accept": HTML})
    text = await page.text()
    for autocomplete in ("username", "new-password", "email"):
        assert f'autocomplete="{autocomplete}"' in text
    for field in ("name", "display_name", "email", "password", "password_confirm"):
        assert f'<label for="{field}">' in text
    assert 'name="invite"' not in text  # open sign-up by default

    response = await web.signup("sam", display_name="Sam Okafor", email="sam@ward.example")
    assert response.status == 303, await response.text()
    assert response.headers["Location"] == "/welcome"  # the next steps, not the home page
    cookie = set_cookies(response)["copnet_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["secure"] is True
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == 30 * 24 * 3600

    profile = await web.client.get("/settings/profile", headers={"Accept": HTML})
    assert profile.status == 200
    profile_text = await profile.text()
    assert 'value="Sam Okafor"' in profile_text
    assert 'href="/u/sam"' in profile_text  # `member` reaches every template
    public = await web.client.get("/u/sam", headers={"Accept": HTML})
    body = await public.text()
    assert "Sam Okafor" in body and "@sam@copnet.test" in body
    async with web.app[SESSIONS]() as session:
        member = await accounts.member_by_name(session, "sam")
    assert member.actor.type == "Person"
    assert member.account.email == "sam@ward.example"
    assert member.account.password_hash.startswith("$argon2id$")
    assert member.account.last_login_at is not None


async def test_the_session_cookie_is_not_secure_over_plain_http(
    aiohttp_server, aiohttp_client, database_url
):
    web = await start_web(aiohttp_server, aiohttp_client, database_url, url="http://copnet.test")
    visitor = set_cookies(await web.client.get("/login"))["copnet_csrf"]
    assert "secure" not in visitor["raw"] and "httponly" in visitor["raw"]
    response = await web.signup("sam")
    cookie = set_cookies(response)["copnet_session"]
    assert "secure" not in cookie
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"


async def test_signup_problems_are_shown_next_to_their_fields(web):
    response = await web.signup("Sam Smith", password="short", password_confirm="other")
    assert response.status == 400
    text = await response.text()
    assert "copnet_session" not in response.headers.get("Set-Cookie", "")
    assert 'id="name-error"' in text and 'id="password-error"' in text
    assert 'id="password_confirm-error"' in text
    assert re.search(r'id="name"[^>]*aria-describedby="name-hint name-error"', text)
    assert re.search(r'id="password"[^>]*aria-invalid="true"', text)
    assert 'role="alert"' in text
    assert 'value="short"' not in text  # a password is never sent back
    assert 'value="sam smith"' in text  # the rest is kept to fix
    async with web.app[SESSIONS]() as session:
        assert await accounts.count_accounts(session) == 0


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("1234567890", "first an attacker would try"),
        ("Password123", "first an attacker would try"),
        ("aaaaaaaaaaaa", "first an attacker would try"),
        ("sam2024!!!!", "your name"),
    ],
)
async def test_obvious_passwords_are_refused(web, password, message):
    response = await web.signup("sam", password=password)
    assert response.status == 400
    assert message in await response.text()


async def test_a_taken_name_or_email_is_explained(web):
    await make_member(web.app, "sam", email="sam@ward.example")
    web.forget_cookies()
    taken = await web.signup("sam")
    assert taken.status == 400
    assert "already has that name" in await taken.text()
    email = await web.signup("alex", email="SAM@ward.example")
    assert email.status == 400
    assert "already uses that email" in await email.text()
    reserved = await web.signup("admin")
    assert "reserved" in await reserved.text()


async def test_invite_only_signup_needs_an_unused_code(web):
    async with web.app[WRITE_SESSIONS]() as session:
        await site_modes.set_signup_mode(session, "invite")
        code = await invite_queries.create_invite(session)
        await session.commit()
    page = await web.client.get("/signup", headers={"Accept": HTML})
    assert '<label for="invite">' in await page.text()

    missing = await web.signup("sam")
    assert missing.status == 400
    assert "needs an invitation code" in await missing.text()
    wrong = await web.signup("sam", invite="abcd-efgh-jkmn-pqrs")
    assert wrong.status == 400
    assert "not valid or was already used" in await wrong.text()
    async with web.app[SESSIONS]() as session:
        assert await accounts.member_by_name(session, "sam") is None  # rolled back

    accepted = await web.signup("sam", invite=code)
    assert accepted.status == 303
    web.forget_cookies()
    reused = await web.signup("alex", invite=code)
    assert reused.status == 400
    async with web.app[SESSIONS]() as session:
        assert await accounts.member_by_name(session, "alex") is None
        assert await accounts.member_by_name(session, "sam") is not None


async def test_the_invite_link_fills_in_the_code(web):
    async with web.app[WRITE_SESSIONS]() as session:
        await site_modes.set_signup_mode(session, "invite")
        await session.commit()
    page = await web.client.get("/signup?invite=abcd-efgh", headers={"Accept": HTML})
    assert 'value="abcd-efgh"' in await page.text()


# --- sign in and out --------------------------------------------------------------------------


async def test_wrong_password_is_an_error_and_the_right_one_signs_in(web):
    await make_member(web.app, "sam", email="sam@ward.example")
    wrong = await web.login("sam", "not the password at all")
    assert wrong.status == 400
    text = await wrong.text()
    assert "do not match" in text
    assert "copnet_session" not in set_cookies(wrong)
    unknown = await web.login("nobody", PASSWORD)
    assert "do not match" in await unknown.text()  # the same words: names are not revealed

    right = await web.login("sam@ward.example", PASSWORD, next_path="/u/sam?tab=1")
    assert right.status == 303
    assert right.headers["Location"] == "/u/sam?tab=1"
    assert set_cookies(right)["copnet_session"]["httponly"] is True


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x", ""]
)
async def test_login_never_redirects_off_site(web, target):
    await make_member(web.app, "sam")
    response = await web.login("sam", PASSWORD, next_path=target)
    assert response.headers["Location"] == "/"


def test_safe_next():
    assert safe_next("/c/nursing?page=2#top") == "/c/nursing?page=2#top"
    for bad in (
        None,
        "",
        "c/x",
        "//x.example",
        "/\\x",
        "https://x/",
        "/ok\r\nSet-Cookie: a",
        "/login",
    ):
        assert safe_next(bad) == "/"


async def test_pages_for_members_send_visitors_to_sign_in_and_back(web):
    response = await web.client.get(
        "/settings/profile", headers={"Accept": HTML}, allow_redirects=False
    )
    assert response.status == 302
    assert response.headers["Location"] == "/login?next=/settings/profile"
    login = await web.client.get(response.headers["Location"], headers={"Accept": HTML})
    assert 'name="next" value="/settings/profile"' in await login.text()


async def test_logout_ends_the_session_everywhere_it_is_used(web):
    await web.signup("sam")
    stolen = web.client.session.cookie_jar.filter_cookies(web.client.make_url("/"))
    token = stolen["copnet_session"].value
    response = await web.logout()
    assert response.status == 303
    cleared = set_cookies(response)["copnet_session"]
    assert cleared["value"] == ""
    assert cleared["max-age"] == "0"
    async with web.app[SESSIONS]() as session:
        assert await web_sessions.session_by_token(session, token) is None
    # Even a copy of the old cookie no longer works.
    replay = await web.client.get(
        "/settings/profile",
        headers={"Accept": HTML, "Cookie": f"copnet_session={token}"},
        allow_redirects=False,
    )
    assert replay.status == 302


async def test_logout_is_post_only(web):
    await web.signup("sam")
    response = await web.client.get("/logout", headers={"Accept": HTML}, allow_redirects=False)
    assert response.status == 405
    assert (await web.client.get("/settings/profile", allow_redirects=False)).status == 200


async def test_a_forged_session_cookie_is_a_visitor(web):
    response = await web.client.get(
        "/settings/profile",
        headers={"Cookie": "copnet_session=made-up-token"},
        allow_redirects=False,
    )
    assert response.status == 302


# --- login rate limiting ----------------------------------------------------------------------


async def test_five_failures_lock_the_name_for_fifteen_minutes(web):
    await make_member(web.app, "sam")
    for _ in range(5):
        assert (await web.login("sam", "wrong password!")).status == 400
    locked = await web.login("sam", PASSWORD)  # even the right password waits
    assert locked.status == 429
    assert locked.headers["Retry-After"] == "900"
    assert "wait 15 minutes" in await locked.text()
    assert "copnet_session" not in set_cookies(locked)
    web.clock.advance(600)
    assert (await web.login("SAM", PASSWORD)).headers["Retry-After"] == "300"
    web.clock.advance(301)
    assert (await web.login("sam", PASSWORD)).status == 303


async def test_switching_between_handle_and_email_earns_no_extra_guesses(web):
    await make_member(web.app, "sam", email="sam@ward.example")
    for attempt in range(5):
        login = "sam@ward.example" if attempt % 2 else "@sam"
        assert (await web.login(login, "wrong password!")).status == 400
    assert (await web.login("sam", PASSWORD)).status == 429
    assert (await web.login("SAM@ward.example", PASSWORD)).status == 429


async def test_guesses_sent_in_parallel_share_the_limit(web, monkeypatch):
    await make_member(web.app, "sam")
    token = await web.token()
    # Hold every password check until each request is either being checked or answered:
    # all twelve are in flight together, as in a real burst.
    held, release, progress = 0, asyncio.Event(), asyncio.Event()
    verify = passwords.verify_password_async

    async def held_verify(stored, password):
        nonlocal held
        held += 1
        progress.set()
        await release.wait()
        return await verify(stored, password)

    monkeypatch.setattr(passwords, "verify_password_async", held_verify)

    async def guess():
        data = {"login": "sam", "password": "wrong password!", "csrf_token": token}
        response = await web.client.post("/login", data=data, allow_redirects=False)
        progress.set()
        return response.status

    tasks = [asyncio.create_task(guess()) for _ in range(12)]
    while held + sum(task.done() for task in tasks) < len(tasks):
        progress.clear()
        await progress.wait()
    release.set()
    statuses = await asyncio.gather(*tasks)
    assert sorted(statuses) == [400] * 5 + [429] * 7


async def test_a_success_clears_the_names_failures(web):
    await make_member(web.app, "sam")
    for _ in range(4):
        await web.login("sam", "wrong password!")
    assert (await web.login("sam", PASSWORD)).status == 303
    web.forget_cookies()
    for _ in range(4):
        assert (await web.login("sam", "wrong password!")).status == 400
    assert (await web.login("sam", PASSWORD)).status == 303


async def test_one_address_trying_many_names_is_limited(
    aiohttp_server, aiohttp_client, database_url
):
    web = await start_web(aiohttp_server, aiohttp_client, database_url, trusted_proxies="127.0.0.1")
    await make_member(web.app, "sam")
    for index in range(20):
        assert (await web.login(f"guess{index}", "wrong password!")).status == 400
    assert (await web.login("sam", PASSWORD)).status == 429
    # Someone else (another address behind the same proxy) is not affected.
    other = await web.client.post(
        "/login",
        data={"login": "sam", "password": PASSWORD, "csrf_token": await web.token()},
        headers={"X-Forwarded-For": "203.0.113.9"},
        allow_redirects=False,
    )
    assert other.status == 303


async def test_sliding_window_counts_only_recent_events():
    clock = FakeClock()
    window = SlidingWindow(3, 60, clock)
    for _ in range(3):
        assert await window.retry_after("k") is None
        await window.hit("k")
    assert await window.retry_after("k") == 60
    clock.advance(59)
    assert await window.retry_after("k") == pytest.approx(1)
    clock.advance(1)
    assert await window.retry_after("k") is None
    await window.reset("k")
    assert await window.retry_after("k") is None


async def test_the_window_forgets_idle_keys_when_full():
    clock = FakeClock()
    store = MemoryHits(max_keys=3)
    window = SlidingWindow(2, 60, clock, store=store)
    for key in "abcd":
        await window.hit(key)
        clock.advance(1)
    assert len(store._events) == 3
    assert await window.retry_after("a") is None  # the oldest key was dropped


async def test_limiter_counts_names_case_insensitively():
    clock = FakeClock()
    limiter = LoginRateLimiter(per_name=2, per_address=100, clock=clock)
    await limiter.failed("192.0.2.1", "Sam")
    await limiter.failed("192.0.2.2", "@sam")
    assert await limiter.retry_after("192.0.2.3", "SAM") == 900
    assert await limiter.retry_after("192.0.2.3", "alex") is None


async def test_a_successful_attempt_is_taken_back_from_the_address():
    limiter = LoginRateLimiter(per_name=5, per_address=2, clock=FakeClock())
    for _ in range(5):
        assert await limiter.attempt("192.0.2.1", "sam") is None
        await limiter.succeeded("192.0.2.1", "sam")
    assert await limiter.attempt("192.0.2.1", "alex") is None  # a failure: it stays counted
    assert await limiter.attempt("192.0.2.1", "robin") is None
    assert await limiter.attempt("192.0.2.1", "sam") == 900


# --- passwords --------------------------------------------------------------------------------


def test_password_hashes_are_argon2id_and_verify():
    stored = passwords.hash_password("a long passphrase")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "a long passphrase")
    assert not passwords.verify_password(stored, "a long passphrasE")
    assert not passwords.verify_password("not a hash", "a long passphrase")
    assert not passwords.verify_password(None, "a long passphrase")
    # The same passphrase typed with a decomposed accent still matches (NFKC).
    accented = passwords.hash_password("caf\u00e9 au lait s'il vous pla\u00eet")
    assert passwords.verify_password(accented, "cafe\u0301 au lait s'il vous pla\u00eet")


def test_weaker_old_hashes_need_a_rehash(monkeypatch):
    weak = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("a long passphrase")
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher())
    assert passwords.needs_rehash(weak)
    assert passwords.verify_password(weak, "a long passphrase")
    assert not passwords.needs_rehash(passwords.hash_password("a long passphrase"))


async def test_signing_in_upgrades_an_old_hash(web, monkeypatch):
    await make_member(web.app, "sam")  # hashed with the tiny test parameters
    stronger = PasswordHasher(time_cost=2, memory_cost=512, parallelism=1)
    monkeypatch.setattr(passwords, "_hasher", stronger)
    assert (await web.login("sam", PASSWORD)).status == 303
    async with web.app[SESSIONS]() as session:
        member = await accounts.member_by_name(session, "sam")
    assert "t=2" in member.account.password_hash
    assert passwords.verify_password(member.account.password_hash, PASSWORD)


def test_password_rules():
    passwords.check_password_rules("ten chars!")
    for weak in ("short", "1234567890", "QWERTYUIOP", "zzzzzzzzzzzz", "x" * 2000):
        with pytest.raises(passwords.WeakPassword):
            passwords.check_password_rules(weak)
    with pytest.raises(passwords.WeakPassword):
        passwords.check_password_rules("alexandra1234", name="alexandra")
    passwords.check_password_rules("alexandra likes tea", name="alexandra")


# --- profile ----------------------------------------------------------------------------------


async def test_profile_edit_renders_markdown_and_tells_followers(web):
    await web.signup("sam")
    async with web.app[WRITE_SESSIONS]() as session:
        member = await accounts.member_by_name(session, "sam")
        follower = Actor(
            type="Person",
            ap_id="https://social.example/users/kim",
            username="kim",
            domain="social.example",
            inbox_url="https://social.example/users/kim/inbox",
            shared_inbox_url="https://social.example/inbox",
            public_key_pem="-",
        )
        session.add(follower)
        await session.flush()
        await upsert_follow(
            session,
            followed_id=member.actor.id,
            follower_id=follower.id,
            state="accepted",
            activity_ap_id="https://social.example/follows/1",
        )
        await session.commit()
    token = await web.token("/settings/profile")
    response = await web.post(
        "/settings/profile",
        {"display_name": "  Sam   Okafor ", "bio": "Ward *nurse*.\r\n\n<script>x</script>"},
        token=token,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/settings/profile?saved=1"
    saved = await web.client.get(response.headers["Location"], headers={"Accept": HTML})
    assert "Your profile is saved" in await saved.text()
    person = await (
        await web.client.get("/u/sam", headers={"Accept": "application/activity+json"})
    ).json(content_type=None)
    assert person["name"] == "Sam Okafor"
    assert "<em>nurse</em>" in person["summary"]
    assert "<script>" not in person["summary"]
    assert person["source"]["content"] == "Ward *nurse*.\n\n<script>x</script>"
    async with web.app[SESSIONS]() as session:
        update = await session.scalar(
            select(OutgoingActivity).where(OutgoingActivity.type == "Update")
        )
        assert update is not None
        inboxes = list(
            await session.scalars(
                select(Delivery.inbox_url).where(Delivery.activity_id == update.id)
            )
        )
    assert inboxes == ["https://social.example/inbox"]
    assert '"type":"Person"' in update.body and '"name":"Sam Okafor"' in update.body


async def test_profile_limits_are_explained(web):
    await web.signup("sam")
    token = await web.token("/settings/profile")
    response = await web.post(
        "/settings/profile", {"display_name": "x" * 101, "bio": "y" * 5001}, token=token
    )
    assert response.status == 400
    text = await response.text()
    assert 'id="display_name-error"' in text and 'id="bio-error"' in text


def test_create_app_wires_the_website_once_in_order(database_url):
    app = create_app(settings_for(database_url))
    names = [getattr(m, "__name__", "") for m in app.middlewares]
    assert names.count("html_errors") == names.count("csrf_middleware") == 1
    assert names.index("json_errors") < names.index("html_errors") < names.index("csrf_middleware")
    assert LOGIN_LIMITER in app
    assert "signup" in app.router.named_resources()


# --- error pages for browsers -----------------------------------------------------------------


async def test_browsers_get_html_errors_and_servers_get_json(web):
    page = await web.client.get("/u/nobody", headers={"Accept": HTML})
    assert page.status == 404
    assert page.content_type == "text/html"
    text = await page.text()
    assert "<h1" in text and "no member named" in text.lower()
    assert 'href="/static/copnet.css"' in text  # inside the site layout
    as2 = await web.client.get("/u/nobody", headers={"Accept": "application/activity+json"})
    assert as2.status == 404
    assert (await as2.json())["error"] == "no member named 'nobody'"
    plain = await web.client.get("/u/nobody")
    assert plain.content_type == "application/json"
    missing = await web.client.get("/no/such/page", headers={"Accept": HTML})
    assert missing.status == 404 and missing.content_type == "text/html"


async def test_signups_from_one_address_are_limited(web):
    from server.appkeys import SIGNUP_LIMITER
    from server.web.routes_auth import SIGNUPS_PER_HOUR

    limiter = web.client.app[SIGNUP_LIMITER]
    for _ in range(SIGNUPS_PER_HOUR):
        await limiter.hit("127.0.0.1")
    page = await (await web.client.get("/signup", headers={"Accept": HTML})).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = await web.client.post(
        "/signup",
        data={"name": "late", "csrf_token": token},
        headers={"Accept": HTML},
        allow_redirects=False,
    )
    assert response.status == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "try again" in await response.text()
