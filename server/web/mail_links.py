"""Links in mails that work without signing in: confirming an address, unsubscribing.

Unsubscribing follows RFC 8058: the mail's `List-Unsubscribe` URL takes a POST with
`List-Unsubscribe=One-Click` (mail clients send it without cookies or a CSRF token: the signed
URL is the proof, see server.mail.unsubscribe). A GET only shows a page with a button, because
mail scanners open links in mails and must not unsubscribe anyone.
"""

from __future__ import annotations

from aiohttp import web

from models import account_queries as accounts
from models import mail_queries
from models.base import utcnow
from models.mail import DAILY, NEVER, VERIFY, WEEKLY, MailProfile
from server.appkeys import SESSIONS, WRITE_SESSIONS
from server.mail.unsubscribe import NETWORK, check, list_name_for_people
from server.web.errors import render_error
from server.web.routes_auth import _render

UNSUBSCRIBE_PREFIX = "/mail/unsubscribe/"
BAD_VERIFY = (
    "This link to confirm an address cannot be used. Links work once, for three days, and only "
    "for the address your account still has. Ask for a new one on your mail settings page."
)
BAD_UNSUBSCRIBE = "This unsubscribe link is not valid. Change what you get on your mail settings."


async def verify(request: web.Request) -> web.StreamResponse:
    """Mark the address as read by its member (the link works once, for the current address)."""
    token = request.match_info["token"]
    async with request.app[WRITE_SESSIONS]() as session:
        redeemed = await mail_queries.redeem_token(session, token, VERIFY)
        member = (
            await accounts.member_by_actor_id(session, redeemed.account_id) if redeemed else None
        )
        if redeemed is None or member is None or member.account.email != redeemed.email:
            await session.rollback()
            return render_error(request, 400, BAD_VERIFY, title="This link cannot be used")
        await mail_queries.mark_verified(session, redeemed.account_id, redeemed.email)
        await session.commit()
    response = _render(request, "mail_verified.html", {"email": redeemed.email})
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


async def _checked(request: web.Request) -> tuple[int, str] | None:
    try:
        account_id = int(request.match_info["account_id"])
    except ValueError:
        return None
    list_name = request.match_info["list"]
    async with request.app[SESSIONS]() as session:
        profile = await session.get(MailProfile, account_id)
    if profile is None or not check(
        profile.unsubscribe_key, account_id, list_name, request.match_info["signature"]
    ):
        return None
    return account_id, list_name


async def unsubscribe_page(request: web.Request) -> web.StreamResponse:
    """What the link stops, and the button that stops it."""
    checked = await _checked(request)
    if checked is None:
        return render_error(request, 400, BAD_UNSUBSCRIBE, title="This link cannot be used")
    context = {"list_label": list_name_for_people(checked[1]), "done": False}
    return _render(request, "mail_unsubscribe.html", context)


async def unsubscribe(request: web.Request) -> web.StreamResponse:
    """Stop the list the link names: a one-click POST from a mail client, or the page's button."""
    checked = await _checked(request)
    if checked is None:
        return render_error(request, 400, BAD_UNSUBSCRIBE, title="This link cannot be used")
    account_id, list_name = checked
    async with request.app[WRITE_SESSIONS]() as session:
        if list_name == NETWORK:
            await mail_queries.set_network_digest(session, account_id, False)
        elif list_name in (DAILY, WEEKLY):
            await mail_queries.stop_deliveries(session, account_id, list_name)
        else:
            await mail_queries.set_preferences(session, account_id, {list_name: NEVER})
        await session.commit()
    context = {"list_label": list_name_for_people(list_name), "done": True, "at": utcnow()}
    return _render(request, "mail_unsubscribe.html", context)
