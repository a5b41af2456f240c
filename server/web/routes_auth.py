"""Joining, signing in and out, and editing one's profile."""

from __future__ import annotations

from dataclasses import dataclass, field

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from models import account_queries as accounts
from models import invite_queries, mail_queries, site_modes, web_sessions
from models.accounts import Account
from models.actors import InvalidName, NameTaken
from models.base import utcnow
from models.names import RESERVED_NAMES, validate_name
from server.appkeys import (
    LOGIN_LIMITER,
    SCHEDULER,
    SESSIONS,
    SETTINGS,
    SIGNUP_LIMITER,
    URLS,
    WRITE_SESSIONS,
)
from server.http.ratelimit import client_address
from server.mail.account_mail import send_verification
from server.services import passwords
from server.web.auth import (
    SESSION_COOKIE,
    clear_session_cookie,
    current_member,
    forget_signed_in,
    safe_next,
    set_session_cookie,
)
from server.web.errors import render_error

# Sign-ups per client address per hour: enough for a family or a ward, not for a script.
SIGNUPS_PER_HOUR = 10
MAX_DISPLAY_NAME = 100
MAX_BIO = 5000
WELCOME = "/welcome"
WRONG_LOGIN = "That name or email and password do not match. Check them and try again."


@dataclass
class Form:
    """Submitted values and the problems found, keyed by field name."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)


async def _form_values(request: web.Request, names: tuple[str, ...]) -> dict[str, str]:
    data = await request.post()
    values = {}
    for name in names:
        value = data.get(name, "")
        values[name] = value if isinstance(value, str) else ""
    return values


def _render(
    request: web.Request, template: str, context: dict, *, status: int = 200
) -> web.Response:
    context = {"settings": request.app[SETTINGS], **context}
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _signed_in_redirect(location: str, token: str, request: web.Request) -> web.HTTPSeeOther:
    redirect = web.HTTPSeeOther(location)
    set_session_cookie(redirect, token, request.app[SETTINGS])
    return redirect


# --- sign up ----------------------------------------------------------------------------------

SIGNUP_FIELDS = (
    "name",
    "display_name",
    "email",
    "password",
    "password_confirm",
    "invite",
    "network_digest",
)


async def signup_page(request: web.Request) -> web.Response:
    """The form to join this Network."""
    if await current_member(request) is not None:
        raise web.HTTPFound("/")
    async with request.app[SESSIONS]() as session:
        mode = await site_modes.get_signup_mode(session)
        email_required = await mail_queries.email_required(session)
    values = {"invite": request.query.get("invite", "")}
    context = {"form": Form(values=values), "mode": mode, "email_required": email_required}
    return _render(request, "auth_signup.html", context)


async def signup(request: web.Request) -> web.StreamResponse:
    """Create the member, sign them in and show the next steps; or show what to fix."""
    limiter = request.app[SIGNUP_LIMITER]
    address = client_address(request, request.app[SETTINGS].trusted_proxies)
    counted = await limiter.hit(address)  # first: parallel sign-ups, in any process, share it
    wait = await limiter.over(address, counted)
    if wait is not None:
        await limiter.discard(address, counted)
        return render_error(
            request,
            429,
            "Many accounts were just created from your network. Please try again "
            "in an hour, or ask an admin for an invitation.",
            title="Please wait a little",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    values = await _form_values(request, SIGNUP_FIELDS)
    form = Form(values=values)
    async with request.app[SESSIONS]() as session:
        mode = await site_modes.get_signup_mode(session)
        email_required = await mail_queries.email_required(session)
    name = values["name"].strip().lstrip("@").lower()
    values["name"] = name
    try:
        validate_name(name)
    except InvalidName:
        if not name:
            form.error("name", "Choose a name for your address.")
        elif name in RESERVED_NAMES:
            form.error("name", "That name is reserved. Please choose another.")
        else:
            form.error("name", "Use only lowercase letters, digits and _ (at most 64).")
    display_name = " ".join(values["display_name"].split())
    if len(display_name) > MAX_DISPLAY_NAME:
        form.error("display_name", f"Use at most {MAX_DISPLAY_NAME} characters.")
    try:
        email = accounts.normalize_email(values["email"])
    except accounts.InvalidEmail:
        form.error("email", "That does not look like an email address.")
        email = None
    if email is None and email_required:
        form.error("email", "This Network asks every member for an e-mail address.")
    try:
        passwords.check_password_rules(values["password"], name=name)
    except passwords.WeakPassword as weak:
        form.error("password", str(weak))
    if values["password"] != values["password_confirm"]:
        form.error("password_confirm", "The two passwords are not the same.")
    invite = values["invite"].strip()
    if mode == "invite" and not invite:
        form.error("invite", "Joining needs an invitation code from an admin or a member.")
    if not form.errors:
        password_hash = await passwords.hash_password_async(values["password"])
        token = await _create_member(request, form, name, password_hash, email, display_name)
        if token is not None:
            if email is not None:
                request.app[SCHEDULER].wake()
            raise _signed_in_redirect(WELCOME, token, request)
    values["password"] = values["password_confirm"] = ""  # never echo a password back
    context = {"form": form, "mode": mode, "email_required": email_required}
    return _render(request, "auth_signup.html", context, status=400)


async def _create_member(
    request: web.Request,
    form: Form,
    name: str,
    password_hash: str,
    email: str | None,
    display_name: str,
) -> str | None:
    async with request.app[WRITE_SESSIONS]() as session:
        # Re-read inside the write transaction: an admin may just have closed sign-ups.
        mode = await site_modes.get_signup_mode(session)
        try:
            account = await accounts.create_account(
                session, name, password_hash, email=email, display_name=display_name
            )
        except NameTaken:
            form.error("name", "Someone already has that name. Please choose another.")
        except accounts.EmailTaken:
            form.error("email", "An account already uses that email address. Try signing in.")
        if form.errors:
            await session.rollback()
            return None
        if mode == "invite" and not await invite_queries.redeem_invite(
            session, form.values["invite"], account.actor_id
        ):
            await session.rollback()
            form.error("invite", "That invitation code is not valid or was already used.")
            return None
        await welcome_mail(request.app, session, account, name=display_name or name, email=email)
        await mail_queries.set_network_digest(
            session, account.actor_id, form.values["network_digest"] == "yes"
        )
        token, _row = await web_sessions.create_session(session, account.actor_id)
        await accounts.record_login(session, account)
        await session.commit()
    return token


async def welcome_mail(
    app: web.Application, session: AsyncSession, account: Account, *, name: str, email: str | None
):
    """A new member with an address gets the link that confirms it."""
    if email is not None:
        settings, urls = app[SETTINGS], app[URLS]
        await send_verification(
            session,
            settings,
            urls,
            account_id=account.actor_id,
            name=name,
            email=email,
            now=utcnow(),
        )


# --- sign in and out --------------------------------------------------------------------------


async def login_page(request: web.Request) -> web.Response:
    """The sign-in form."""
    next_path = safe_next(request.query.get("next"))
    if await current_member(request) is not None:
        raise web.HTTPFound(next_path)
    form = Form(values={"next": next_path})
    return _render(request, "auth_login.html", {"form": form})


async def login(request: web.Request) -> web.StreamResponse:
    """Check the password (rate limited), start a session, go where the member was going."""
    values = await _form_values(request, ("login", "password", "next"))
    values["next"] = safe_next(values["next"])
    identifier = values["login"].strip()
    form = Form(values=values)
    limiter = request.app[LOGIN_LIMITER]
    address = client_address(request, request.app[SETTINGS].trusted_proxies)
    if not identifier or not values["password"]:
        if not identifier:
            form.error("login", "Enter your name or email address.")
        if not values["password"]:
            form.error("password", "Enter your password.")
        values["password"] = ""
        return _render(request, "auth_login.html", {"form": form}, status=400)
    async with request.app[SESSIONS]() as session:
        member = await accounts.member_by_login(session, identifier)
    names = (identifier, member.name) if member else (identifier,)
    wait = await limiter.attempt(address, *names)  # counted now: parallel guesses share the limit
    if wait is not None:
        return _too_many(request, wait)
    stored = member.account.password_hash if member else None
    if member is None or not await passwords.verify_password_async(stored, values["password"]):
        form.error("login", WRONG_LOGIN)
        values["password"] = ""
        return _render(request, "auth_login.html", {"form": form}, status=400)
    await limiter.succeeded(address, *names)
    rehashed = None
    if passwords.needs_rehash(member.account.password_hash):
        rehashed = await passwords.hash_password_async(values["password"])
    async with request.app[WRITE_SESSIONS]() as session:
        token, _row = await web_sessions.create_session(session, member.account.actor_id)
        await accounts.record_login(session, member.account, new_password_hash=rehashed)
        await session.commit()
    raise _signed_in_redirect(values["next"], token, request)


def _too_many(request: web.Request, wait: int) -> web.Response:
    minutes = max(1, round(wait / 60))
    when = "a minute" if minutes == 1 else f"{minutes} minutes"
    return render_error(
        request,
        429,
        f"There were too many unsuccessful attempts to sign in. For your safety, please wait "
        f"{when} and try again. If you have forgotten your password, ask an admin.",
        title="Please wait a little",
        headers={"Retry-After": str(wait)},
    )


async def logout(request: web.Request) -> web.StreamResponse:
    """End this browser's session (POST only, with the CSRF token) and go home."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with request.app[WRITE_SESSIONS]() as session:
            await web_sessions.delete_session(session, token)
            await session.commit()
    forget_signed_in(request)
    redirect = web.HTTPSeeOther("/")
    clear_session_cookie(redirect, request.app[SETTINGS])
    raise redirect
