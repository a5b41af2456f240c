"""A member's own account: profile, picture and language, password, data export.

Leaving the Network is `server/web/account_deletion.py`.

Every page here acts on the signed-in member only: no form names whose account it changes.
"""

from __future__ import annotations

import asyncio

from aiohttp import BodyPartReader, web

from models import account_lifecycle as lifecycle
from models import account_queries as accounts
from models import web_sessions
from models.base import utcnow
from models.in_touch import kept_in_touch
from server.appkeys import MEDIA, SESSIONS, SETTINGS, URLS, WRITE_SESSIONS
from server.as2.actors import person_icon_url
from server.http.ratelimit import client_address
from server.media.kinds import UploadRefused
from server.media.store import part_chunks
from server.services import passwords
from server.services.account_export import export_zip, notification_links
from server.services.markdown import render_markdown
from server.services.person_federation import queue_person_update
from server.web.auth import (
    Member,
    forget_signed_in,
    require_member,
    set_session_cookie,
)
from server.web.csrf import multipart_reader
from server.web.pictures import MAX_UPLOAD_BYTES, PictureRefused, reencode_picture_async
from server.web.requests import wake_delivery
from server.web.routes_auth import (
    LOGIN_LIMITER,
    MAX_BIO,
    MAX_DISPLAY_NAME,
    Form,
    _form_values,
    _render,
    _too_many,
)

PROFILE = "/settings/profile"
WRONG_CURRENT = "That is not your current password."


async def current_password_ok(
    request: web.Request, member: Member, given: str
) -> bool | web.Response:
    """Whether `given` is the member's password, counted like a sign-in: the 429 page instead
    when there were too many tries."""
    limiter = request.app[LOGIN_LIMITER]
    address = client_address(request, request.app[SETTINGS].trusted_proxies)
    wait = await limiter.attempt(address, member.name)
    if wait is not None:
        return _too_many(request, wait)
    async with request.app[SESSIONS]() as session:
        found = await accounts.member_by_actor_id(session, member.actor_id)
    assert found is not None
    if not await passwords.verify_password_async(found.account.password_hash, given):
        return False
    await limiter.succeeded(address, member.name)
    return True


async def _profile_context(request: web.Request, member: Member, form: Form | None) -> dict:
    async with request.app[SESSIONS]() as session:
        found = await accounts.member_by_actor_id(session, member.actor_id)
    assert found is not None
    actor, account = found.actor, found.account
    if form is None:
        form = Form(
            values={
                "display_name": actor.display_name,
                "bio": actor.summary_source,
                "language": account.language or "",
            }
        )
    return {
        "form": form,
        "saved": request.query.get("saved", ""),
        "languages": lifecycle.LANGUAGES,
        "picture_url": person_icon_url(request.app[URLS], member.name, account.picture_sha256),
        "has_picture": account.picture_sha256 is not None,
        "picture_error": "",
    }


# --- profile and language -----------------------------------------------------------------------


async def profile_page(request: web.Request) -> web.Response:
    """The member's display name, bio, picture and language, to edit."""
    member = await require_member(request)
    return _render(request, "auth_profile.html", await _profile_context(request, member, None))


async def profile(request: web.Request) -> web.StreamResponse:
    """Save the profile and tell whoever reads the member (an `Update` of their Person)."""
    member = await require_member(request)
    values = await _form_values(request, ("display_name", "bio", "language"))
    form = Form(values=values)
    display_name = " ".join(values["display_name"].split())
    bio = values["bio"].replace("\r\n", "\n").strip()
    language = values["language"] or None
    if len(display_name) > MAX_DISPLAY_NAME:
        form.error("display_name", f"Use at most {MAX_DISPLAY_NAME} characters.")
    if len(bio) > MAX_BIO:
        form.error("bio", f"Use at most {MAX_BIO} characters ({len(bio)} now).")
    if language is not None and language not in lifecycle.LANGUAGES:
        form.error("language", "Choose one of the languages in the list.")
    if form.errors:
        context = await _profile_context(request, member, form)
        return _render(request, "auth_profile.html", context, status=400)
    async with request.app[WRITE_SESSIONS]() as session:
        found = await accounts.member_by_actor_id(session, member.actor_id)
        assert found is not None
        actor = found.actor
        actor.display_name = display_name
        actor.summary_source = bio
        actor.summary_html = render_markdown(bio)
        actor.updated = utcnow()
        await lifecycle.set_language(session, actor.id, language)
        await session.flush()
        await queue_person_update(
            session, actor, request.app[URLS], picture=found.account.picture_sha256
        )
        await session.commit()
    wake_delivery(request.app)
    raise web.HTTPSeeOther(f"{PROFILE}?saved=1")


# --- picture ------------------------------------------------------------------------------------


async def _read_picture(request: web.Request) -> bytes:
    if request.content_type != "multipart/form-data":
        raise PictureRefused("Choose a picture to upload.")
    reader = await multipart_reader(request)
    data = bytearray()
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise PictureRefused("The form was malformed; please try again.")
        async for chunk in part_chunks(part):
            if part.name != "picture":
                continue
            data += chunk
            if len(data) > MAX_UPLOAD_BYTES:
                raise PictureRefused("The picture is larger than 10 MB. Choose a smaller one.")
    if not data:
        raise PictureRefused("Choose a picture to upload.")
    return bytes(data)


async def picture(request: web.Request) -> web.StreamResponse:
    """Re-encode an uploaded picture, store it, make it the member's icon and federate it."""
    member = await require_member(request)
    try:
        png = await reencode_picture_async(await _read_picture(request))
        stored = await request.app[MEDIA].store_bytes(png, filename="picture.png")
    except (PictureRefused, UploadRefused) as refused:
        context = await _profile_context(request, member, None)
        context["picture_error"] = str(refused)
        return _render(request, "auth_profile.html", context, status=400)
    await _set_picture(request, member, stored.sha256)
    raise web.HTTPSeeOther(f"{PROFILE}?saved=picture")


async def remove_picture(request: web.Request) -> web.StreamResponse:
    """Go back to the generated icon."""
    member = await require_member(request)
    await _set_picture(request, member, None)
    raise web.HTTPSeeOther(f"{PROFILE}?saved=picture")


async def _set_picture(request: web.Request, member: Member, sha256: str | None) -> None:
    async with request.app[WRITE_SESSIONS]() as session:
        await lifecycle.set_picture(session, member.actor_id, sha256)
        found = await accounts.member_by_actor_id(session, member.actor_id)
        assert found is not None
        await session.refresh(found.actor)
        await queue_person_update(session, found.actor, request.app[URLS], picture=sha256)
        await session.commit()
    wake_delivery(request.app)


# --- password -----------------------------------------------------------------------------------

PASSWORD_FIELDS = ("current_password", "new_password", "new_password_confirm")


async def password_page(request: web.Request) -> web.Response:
    """The form to change one's password."""
    await require_member(request)
    saved = request.query.get("saved") in ("1", "reset")  # reset: after a link by mail
    return _render(request, "settings_password.html", {"form": Form(), "saved": saved})


async def change_password(request: web.Request) -> web.StreamResponse:
    """Check the current password (rate limited like sign-in), store the new one, end the
    member's other sessions and keep this browser signed in with a fresh one."""
    member = await require_member(request)
    values = await _form_values(request, PASSWORD_FIELDS)
    form = Form(values={})
    checked = await current_password_ok(request, member, values["current_password"])
    if isinstance(checked, web.Response):
        return checked
    if not checked:
        form.error("current_password", WRONG_CURRENT)
        return _render(request, "settings_password.html", {"form": form}, status=400)
    try:
        passwords.check_password_rules(values["new_password"], name=member.name)
    except passwords.WeakPassword as weak:
        form.error("new_password", str(weak))
    if values["new_password"] != values["new_password_confirm"]:
        form.error("new_password_confirm", "The two passwords are not the same.")
    if form.errors:
        return _render(request, "settings_password.html", {"form": form}, status=400)
    new_hash = await passwords.hash_password_async(values["new_password"])
    async with request.app[WRITE_SESSIONS]() as session:
        await accounts.set_password_hash(session, member.actor_id, new_hash)
        await web_sessions.delete_sessions_of(session, member.actor_id)
        token, _row = await web_sessions.create_session(session, member.actor_id)
        await session.commit()
    forget_signed_in(request)
    redirect = web.HTTPSeeOther("/settings/password?saved=1")
    set_session_cookie(redirect, token, request.app[SETTINGS])
    raise redirect


# --- export -------------------------------------------------------------------------------------


async def export(request: web.Request) -> web.Response:
    """The member's data as a zip download."""
    member = await require_member(request)
    async with request.app[SESSIONS]() as session:
        found = await accounts.member_by_actor_id(session, member.actor_id)
        assert found is not None
        archive = await lifecycle.member_archive(session, member.actor_id)
        in_touch = await kept_in_touch(session, member.actor_id)
        links = await notification_links(session, request.app[URLS], in_touch.notifications)
    store = request.app[MEDIA]
    body = await asyncio.to_thread(
        export_zip,
        found,
        archive,
        in_touch,
        request.app[URLS],
        notification_links=links,
        language=found.account.language,
        stored_file=store.path_for,
    )
    filename = f"copnet-{member.name}-{utcnow():%Y-%m-%d}.zip"
    return web.Response(
        body=body,
        content_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


# --- after joining ------------------------------------------------------------------------------


async def welcome(request: web.Request) -> web.Response:
    """The next steps for someone who just joined: CoPs, a picture, their language."""
    member = await require_member(request)
    return _render(request, "welcome.html", {"name": member.name})
