"""A member's mail settings: their address (and proving it), what is mailed and how often.

Like every settings page it acts on the signed-in member only. Changing the address needs the
current password (the address is where password resets go) and un-verifies it until the new
address's link is followed.
"""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from models import account_queries as accounts
from models import mail_queries
from models import notifications as kinds
from models.accounts import Account
from models.base import utcnow
from models.mail import DELIVERIES, MailProfile
from server.appkeys import (
    RESET_EMAIL_LIMITER,
    SESSIONS,
    SETTINGS,
    URLS,
    WRITE_SESSIONS,
)
from server.mail.account_mail import send_verification
from server.mail.address import valid_address
from server.web.account_settings import WRONG_CURRENT, current_password_ok
from server.web.auth import Member, require_member
from server.web.requests import wake_scheduler
from server.web.routes_auth import Form, _form_values, _render

PAGE = "/settings/mail"
KIND_LABELS = {
    kinds.REPLY: "Replies to your posts",
    kinds.MENTION: "Mentions of you",
    kinds.LIKE: "Likes of your posts",
    kinds.NEW_THREAD: "New threads in your CoPs",
    kinds.WATCHED_REPLY: "Replies in threads you watch",
    kinds.BASECAMP_CHANGED: "Changes to Basecamps you go to",
    kinds.BASECAMP_CANCELLED: "Cancelled Basecamps",
    kinds.BASECAMP_REMINDER: "Reminders of Basecamps",
    kinds.JOIN_REQUEST: "Requests to join a CoP you moderate",
    kinds.REPORT: "Reports about your CoPs (moderators)",
}
DELIVERY_LABELS = {
    "immediate": "At once",
    "daily": "Daily digest",
    "weekly": "Weekly digest",
    "never": "Never",
}
NOTICES = {
    "saved": "Your mail preferences are saved.",
    "address": "Your address is saved. We sent it a link: follow it to confirm the address.",
    "removed": "Your address is removed. We will send you no mail.",
    "sent": "We sent a new link to your address. Follow it to confirm the address.",
}


async def _context(request: web.Request, member: Member, form: Form | None = None) -> dict:
    async with request.app[SESSIONS]() as session:
        found = await accounts.member_by_actor_id(session, member.actor_id)
        assert found is not None
        chosen = await mail_queries.preferences(session, member.actor_id)
        profile = await session.get(MailProfile, member.actor_id)
        verified = await mail_queries.is_verified(session, member.actor_id)
    return {
        "form": form or Form(values={"email": found.account.email or ""}),
        "email": found.account.email,
        "verified": verified,
        "chosen": chosen,
        "network_digest": bool(profile and profile.network_digest),
        "kind_labels": KIND_LABELS,
        "delivery_labels": DELIVERY_LABELS,
        "notice": NOTICES.get(request.query.get("done", "")),
    }


async def page(request: web.Request) -> web.Response:
    """The mail settings of the signed-in member."""
    member = await require_member(request)
    return _render(request, "settings_mail.html", await _context(request, member))


async def save_preferences(request: web.Request) -> web.StreamResponse:
    """How each kind of notification is mailed, and the weekly Network digest."""
    member = await require_member(request)
    data = await request.post()
    chosen = {}
    for kind in KIND_LABELS:
        value = data.get(kind)
        if value not in DELIVERIES:
            form = Form()
            form.error(kind, f"Choose how to get “{KIND_LABELS[kind]}”.")
            context = await _context(request, member, form)
            return _render(request, "settings_mail.html", context, status=400)
        chosen[kind] = str(value)
    async with request.app[WRITE_SESSIONS]() as session:
        await mail_queries.set_preferences(session, member.actor_id, chosen)
        await mail_queries.set_network_digest(
            session, member.actor_id, data.get("network_digest") == "yes"
        )
        await session.commit()
    raise web.HTTPSeeOther(f"{PAGE}?done=saved")


async def change_address(request: web.Request) -> web.StreamResponse:
    """A new address (or none), with the current password; the new one gets a link."""
    member = await require_member(request)
    values = await _form_values(request, ("email", "current_password"))
    form = Form(values={"email": values["email"]})
    checked = await current_password_ok(request, member, values["current_password"])
    if isinstance(checked, web.Response):
        return checked
    if not checked:
        form.error("current_password", WRONG_CURRENT)
    async with request.app[SESSIONS]() as session:
        required = await mail_queries.email_required(session)
    try:
        email = accounts.normalize_email(values["email"])
    except accounts.InvalidEmail:
        form.error("email", "That does not look like an e-mail address.")
        email = None
    if email is None and required and "email" not in form.errors:
        form.error("email", "This Network asks every member for an e-mail address.")
    if not form.errors:
        done = await _store_address(request, member, email, form)
        if done:
            wake_scheduler(request.app)
            raise web.HTTPSeeOther(f"{PAGE}?done={done}")
    context = await _context(request, member, form)
    return _render(request, "settings_mail.html", context, status=400)


async def _store_address(
    request: web.Request, member: Member, email: str | None, form: Form
) -> str | None:
    async with request.app[WRITE_SESSIONS]() as session:
        if email is not None:
            owner = await accounts.member_by_email(session, email)
            if owner is not None and owner.account.actor_id != member.actor_id:
                form.error("email", "Another account already uses that address.")
                return None
        try:
            await session.execute(
                update(Account).where(Account.actor_id == member.actor_id).values(email=email)
            )
        except IntegrityError:  # another account took it a moment ago
            form.error("email", "Another account already uses that address.")
            return None
        if email is not None:
            await send_verification(
                session,
                request.app[SETTINGS],
                request.app[URLS],
                account_id=member.actor_id,
                name=member.label,
                email=email,
                now=utcnow(),
            )
        await session.commit()
    return "address" if email is not None else "removed"


async def resend_verification(request: web.Request) -> web.StreamResponse:
    """Another link for the current address (a few an hour)."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        found = await accounts.member_by_actor_id(session, member.actor_id)
    assert found is not None
    email = found.account.email
    # Counted before the write session opens: the limiter writes through its own connection,
    # which would wait on this session's lock on SQLite.
    limiter = request.app[RESET_EMAIL_LIMITER]
    key = f"verify:{email}"
    if email is None or not valid_address(email) or await limiter.retry_after(key) is not None:
        raise web.HTTPSeeOther(PAGE)
    await limiter.hit(key)
    async with request.app[WRITE_SESSIONS]() as session:
        await send_verification(
            session,
            request.app[SETTINGS],
            request.app[URLS],
            account_id=member.actor_id,
            name=member.label,
            email=email,
            now=utcnow(),
        )
        await session.commit()
    wake_scheduler(request.app)
    raise web.HTTPSeeOther(f"{PAGE}?done=sent")
