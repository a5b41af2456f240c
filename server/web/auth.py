"""Who is signed in: the session cookie, the signed-in member, and what every page is told.

The cookie `copnet_session` carries a random token; the database keeps only its SHA-256
(models.stored_secrets). The lookup runs at most once per request and only when the cookie is
present, so ActivityPub traffic (which never carries our cookies) costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web
from yarl import URL

from models.account_lifecycle import seen_long_ago, touch_last_seen
from models.web_sessions import SESSION_LIFETIME, SignedIn, session_by_token
from server.appkeys import SESSIONS, SETTINGS, WRITE_SESSIONS
from server.http.errors import http_error
from server.settings import Settings
from server.web.errors import render_error

SESSION_COOKIE = "copnet_session"


def request_key(name: str, type_: type) -> Any:
    """A typed request storage key (aiohttp >= 3.13), or the plain name on older aiohttp."""
    factory = getattr(web, "RequestKey", None)
    return factory(name, type_) if factory is not None else name


_SIGNED_IN = request_key("copnet.signed_in", object)  # SignedIn | None once looked up
_UNSET = object()

__all__ = [
    "SESSION_COOKIE",
    "Member",
    "clear_session_cookie",
    "current_member",
    "login_url",
    "render_error",
    "require_admin",
    "require_member",
    "safe_next",
    "secure_cookies",
    "set_session_cookie",
    "signed_in",
]


@dataclass(frozen=True)
class Member:
    """The signed-in member, as views and templates see them."""

    actor_id: int
    name: str
    display_name: str
    is_admin: bool

    @property
    def label(self) -> str:
        """What to call them on a page."""
        return self.display_name or self.name


async def signed_in(request: web.Request) -> SignedIn | None:
    """The live web session of this request (with its member), looked up once."""
    cached = request.get(_SIGNED_IN, _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    token = request.cookies.get(SESSION_COOKIE)
    found = None
    if token:
        async with request.config_dict[SESSIONS]() as session:
            found = await session_by_token(session, token)
    request[_SIGNED_IN] = found
    if found is not None:
        await _note_seen(request, found)
    return found


async def _note_seen(request: web.Request, found: SignedIn) -> None:
    account = found.member.account
    if not seen_long_ago(account.last_seen_at):
        return
    async with request.config_dict[WRITE_SESSIONS]() as session:
        await touch_last_seen(session, account.actor_id, account.last_seen_at)
        await session.commit()


def cached_signed_in(request: web.Request) -> SignedIn | None:
    """What `signed_in` found for this request, without a lookup (None if not looked up)."""
    cached = request.get(_SIGNED_IN)
    return cached if isinstance(cached, SignedIn) else None


def forget_signed_in(request: web.Request, value: SignedIn | None = None) -> None:
    """Replace the cached lookup (after signing in or out within this request)."""
    request[_SIGNED_IN] = value


async def current_member(request: web.Request) -> Member | None:
    """The signed-in member, or None for a visitor."""
    found = await signed_in(request)
    if found is None:
        return None
    actor, account = found.member.actor, found.member.account
    return Member(
        actor_id=actor.id,
        name=actor.local_name or "",
        display_name=actor.display_name,
        is_admin=bool(account.is_admin),
    )


def login_url(next_path: str) -> str:
    """The sign-in page, coming back to `next_path` afterwards."""
    return str(URL("/login").with_query(next=safe_next(next_path)))


async def require_member(request: web.Request) -> Member:
    """The signed-in member; visitors are sent to sign in and brought back here afterwards."""
    member = await current_member(request)
    if member is not None:
        return member
    if request.method in ("GET", "HEAD"):
        raise web.HTTPFound(login_url(request.path_qs))
    # After signing in the browser GETs `next`; the page the form was on is the useful place.
    referer = request.headers.get("Referer", "")
    back = "/"
    try:
        url = URL(referer)
        if referer and url.origin() == request.config_dict[SETTINGS].base.origin():
            back = url.path_qs
    except ValueError:
        pass
    raise web.HTTPSeeOther(login_url(back))


async def require_admin(request: web.Request) -> Member:
    """The signed-in member if they are an admin; 403 for other members."""
    member = await require_member(request)
    if not member.is_admin:
        raise http_error(403, "only the Network's admins can open this page")
    return member


def safe_next(value: str | None) -> str:
    """A local path to go to after signing in; anything else (other sites, tricks) is `/`."""
    if not value or len(value) > 2048:
        return "/"
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in value):
        return "/"
    if not value.startswith("/") or value.startswith("//"):
        return "/"
    try:
        url = URL(value)
    except ValueError:
        return "/"
    if url.scheme or url.host or url.is_absolute():
        return "/"
    if url.path in ("/login", "/signup", "/logout"):
        return "/"
    return value


def secure_cookies(settings: Settings) -> bool:
    """Cookies are `Secure` whenever the public URL is https."""
    return settings.base.scheme == "https"


def set_session_cookie(response: web.StreamResponse, token: str, settings: Settings) -> None:
    """The session cookie: HttpOnly, SameSite=Lax, Secure under https, for the whole site."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(settings),
    )


def clear_session_cookie(response: web.StreamResponse, settings: Settings) -> None:
    """Tell the browser to forget its session cookie."""
    response.del_cookie(
        SESSION_COOKIE,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=secure_cookies(settings),
    )
