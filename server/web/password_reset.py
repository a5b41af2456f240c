"""Forgotten passwords: ask for a link by mail, follow it once within the hour, choose anew.

The answer to "send me a link" is the same, and takes the same work, whether or not an account
uses the address: the request only queues a job holding the address, and the scheduler looks
it up. It is rate limited by client address (a 429, which says nothing about any account)
and, quietly, per address asked about. Every refused link (expired, used, altered, for a
deleted account) gets one and the same message. A reset ends every session of the member and
signs this browser in with a fresh one.
"""

from __future__ import annotations

from aiohttp import web

from models import account_queries as accounts
from models import mail_queries, web_sessions
from models.base import utcnow
from models.mail import RESET
from server.appkeys import (
    RESET_ADDRESS_LIMITER,
    RESET_EMAIL_LIMITER,
    SESSIONS,
    SETTINGS,
    WRITE_SESSIONS,
)
from server.http.ratelimit import client_address
from server.mail.account_mail import request_reset
from server.services import passwords
from server.web.auth import forget_signed_in, set_session_cookie
from server.web.errors import render_error
from server.web.requests import wake_scheduler
from server.web.routes_auth import Form, _form_values, _render

FORGOT = "/password/forgot"
RESETS_PER_ADDRESS_HOUR = 10  # a ward behind one address may have several forgetful people
RESETS_PER_EMAIL_HOUR = 3
BAD_LINK = (
    "This link to reset a password cannot be used. Links work once, within an hour of being "
    "sent; ask for a new one."
)
NEW_FIELDS = ("new_password", "new_password_confirm")


async def forgot_page(request: web.Request) -> web.Response:
    """The form that asks for a reset link."""
    sent = request.query.get("sent") == "1"
    return _render(request, "password_forgot.html", {"form": Form(), "sent": sent})


async def forgot(request: web.Request) -> web.StreamResponse:
    """Queue a reset mail if an account uses the address; the same answer either way."""
    settings = request.app[SETTINGS]
    address = client_address(request, settings.trusted_proxies)
    limiter = request.app[RESET_ADDRESS_LIMITER]
    wait = await limiter.retry_after(address)
    if wait is not None:
        return render_error(
            request,
            429,
            "Many password resets were asked for from your network. Please try again in an hour.",
            title="Please wait a little",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    values = await _form_values(request, ("email",))
    form = Form(values=values)
    try:
        email = accounts.normalize_email(values["email"])
    except accounts.InvalidEmail:
        email = None
    if email is None:
        form.error("email", "Enter the e-mail address of your account.")
        return _render(request, "password_forgot.html", {"form": form, "sent": False}, status=400)
    await limiter.hit(address)
    per_email = request.app[RESET_EMAIL_LIMITER]
    if await per_email.retry_after(email) is None:
        await per_email.hit(email)
        await _request(request, email)
    raise web.HTTPSeeOther(f"{FORGOT}?sent=1")


async def _request(request: web.Request, email: str) -> None:
    async with request.app[WRITE_SESSIONS]() as session:
        await request_reset(session, email, now=utcnow())
        await session.commit()
    wake_scheduler(request.app)


def _bad_link(request: web.Request) -> web.Response:
    return render_error(request, 400, BAD_LINK, title="This link cannot be used")


def _no_referrer(response: web.StreamResponse) -> web.StreamResponse:
    # The token is in this page's URL: never send it to another site in a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def reset_page(request: web.Request) -> web.StreamResponse:
    """The new-password form behind a valid link; the one clear refusal otherwise."""
    token = request.match_info["token"]
    async with request.app[SESSIONS]() as session:
        found = await mail_queries.peek_token(session, token, RESET)
    if found is None:
        return _no_referrer(_bad_link(request))
    return _no_referrer(_render(request, "password_reset.html", {"form": Form()}))


async def reset(request: web.Request) -> web.StreamResponse:
    """Store the new password, spend the link, end every session, sign this browser in."""
    token = request.match_info["token"]
    values = await _form_values(request, NEW_FIELDS)
    async with request.app[SESSIONS]() as session:
        found = await mail_queries.peek_token(session, token, RESET)
        member = await accounts.member_by_actor_id(session, found.account_id) if found else None
    if found is None or member is None:
        return _no_referrer(_bad_link(request))
    form = Form()
    try:
        passwords.check_password_rules(values["new_password"], name=member.name)
    except passwords.WeakPassword as weak:
        form.error("new_password", str(weak))
    if values["new_password"] != values["new_password_confirm"]:
        form.error("new_password_confirm", "The two passwords are not the same.")
    if form.errors:
        return _no_referrer(_render(request, "password_reset.html", {"form": form}, status=400))
    new_hash = await passwords.hash_password_async(values["new_password"])
    now = utcnow()
    async with request.app[WRITE_SESSIONS]() as session:
        redeemed = await mail_queries.redeem_token(session, token, RESET, now=now)
        if redeemed is None:  # another click won the race
            return _no_referrer(_bad_link(request))
        await accounts.set_password_hash(session, redeemed.account_id, new_hash)
        await web_sessions.delete_sessions_of(session, redeemed.account_id)
        await mail_queries.spend_tokens(session, redeemed.account_id, RESET, now=now)
        if redeemed.email == member.account.email:
            # Following the link proved the member reads this address.
            await mail_queries.mark_verified(session, redeemed.account_id, redeemed.email)
        session_token, _row = await web_sessions.create_session(session, redeemed.account_id)
        await session.commit()
    forget_signed_in(request)
    redirect = web.HTTPSeeOther("/settings/password?saved=reset")
    set_session_cookie(redirect, session_token, request.app[SETTINGS])
    raise _no_referrer(redirect)
