"""WebFinger, host-meta and NodeInfo: how other servers find this Network's actors."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote
from xml.sax.saxutils import escape

from aiohttp import web
from yarl import URL

from models.actors import Actor, ensure_instance_actor, get_local_actor
from models.communities import Community, count_communities
from models.site_modes import get_signup_mode
from models.usage import count_local_posts, count_members
from server import __version__
from server.appkeys import SESSIONS, SETTINGS, URLS
from server.http.errors import http_error
from server.web.community_access import may_see

JRD = "application/jrd+json"
AS_TYPE_PROPERTY = "https://www.w3.org/ns/activitystreams#type"
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/{version}"
FEP_2677_REL = "https://www.w3.org/ns/activitystreams#Application"
CORS = {"Access-Control-Allow-Origin": "*"}
# Some clients send `name@host` without the acct: scheme.
BARE_HANDLE = re.compile(r"@?[^:/@\s]+@[^:/@\s]+(:\d+)?")


async def webfinger(request: web.Request) -> web.Response:
    """RFC 7033 lookup of `acct:name@host`, an actor URL, or the site root (FEP-d556)."""
    resource = request.query.get("resource", "").strip()
    if not resource:
        raise http_error(400, "the resource parameter is required")
    async with request.app[SESSIONS]() as session:
        actor, subject = await _resolve_resource(request, session, resource)
        if actor.type == "Group":
            community = await session.get(Community, actor.id)
            if community is None or not await may_see(request, session, community):
                raise http_error(404, f"no actor for {resource}")
        if actor.type == "Application":
            await session.commit()  # the instance actor may have just been created
    urls = request.app[URLS]
    actor_url = urls.actor(actor)
    profile_page = urls.root if actor.type == "Application" else actor_url
    links = [
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile_page},
        {
            "rel": "self",
            "type": "application/activity+json",
            "href": actor_url,
            "properties": {AS_TYPE_PROPERTY: actor.type},
        },
    ]
    wanted = request.query.getall("rel", [])
    if wanted:
        links = [link for link in links if link["rel"] in wanted]
    document = {"subject": subject, "aliases": [actor_url], "links": links}
    return web.json_response(document, content_type=JRD, headers=CORS)


async def _resolve_resource(request: web.Request, session, resource: str) -> tuple[Actor, str]:
    settings = request.app[SETTINGS]
    if resource.startswith("acct:") or BARE_HANDLE.fullmatch(resource):
        name, host = _split_acct(resource)
        if host != settings.domain.lower():
            raise http_error(404, f"{host} is not this server ({settings.domain})")
        if name in ("instance", settings.domain.lower()):
            return await ensure_instance_actor(session), f"acct:instance@{settings.domain}"
        actor = await get_local_actor(session, name)
        if actor is None:
            raise http_error(404, f"no actor named {name!r} on {settings.domain}")
        return actor, f"acct:{name}@{settings.domain}"
    if resource.startswith(("http://", "https://")):
        return await _resolve_url(request, session, resource), resource
    raise http_error(400, "resource must be an acct: URI or an http(s) URL")


def _split_acct(resource: str) -> tuple[str, str]:
    handle = unquote(resource.removeprefix("acct:")).lstrip("@")
    name, at, host = handle.rpartition("@")
    if not at or not name or not host or "@" in name or "/" in host:
        raise http_error(400, f"malformed acct resource {resource!r}: expected acct:name@host")
    return name.lower(), host.lower()


async def _resolve_url(request: web.Request, session, resource: str) -> Actor:
    settings = request.app[SETTINGS]
    try:
        url = URL(resource)
    except ValueError:
        raise http_error(400, f"malformed resource URL {resource!r}") from None
    if url.origin() != settings.base.origin():
        raise http_error(404, f"{resource} is not on this server")
    path = url.path.rstrip("/")
    if path in ("", "/actor"):
        return await ensure_instance_actor(session)
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] in ("c", "u"):
        actor = await get_local_actor(session, parts[1])
        expected = "Group" if parts[0] == "c" else "Person"
        if actor is not None and actor.type == expected:
            return actor
    raise http_error(404, f"no actor at {resource}")


async def host_meta(request: web.Request) -> web.Response:
    """The XRD host-meta document pointing at WebFinger (RFC 6415)."""
    template = escape(request.app[URLS].webfinger_template(), {'"': "&quot;"})
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" type="application/xrd+xml" template="{template}"/>\n'
        "</XRD>\n"
    )
    return web.Response(text=body, content_type="application/xrd+xml", headers=CORS)


async def host_meta_json(request: web.Request) -> web.Response:
    """The JRD flavour of host-meta."""
    template = request.app[URLS].webfinger_template()
    document = {"links": [{"rel": "lrdd", "type": JRD, "template": template}]}
    return web.json_response(document, content_type=JRD, headers=CORS)


async def nodeinfo_index(request: web.Request) -> web.Response:
    """`/.well-known/nodeinfo`: the schema links plus the FEP-2677 instance actor link."""
    urls = request.app[URLS]
    links = [
        {"rel": NODEINFO_SCHEMA.format(version=v), "href": urls.nodeinfo(v)} for v in ("2.1", "2.0")
    ]
    links.append({"rel": FEP_2677_REL, "href": urls.instance_actor()})
    return web.json_response({"links": links}, headers=CORS)


async def nodeinfo(request: web.Request) -> web.Response:
    """NodeInfo 2.0 or 2.1 with real usage counts."""
    version = request.match_info["version"]
    if version not in ("2.0", "2.1"):
        raise http_error(404, f"NodeInfo {version} is not served; try 2.1 or 2.0")
    settings = request.app[SETTINGS]
    async with request.app[SESSIONS]() as session:
        members = await count_members(session)
        now = datetime.now(UTC)
        active_month = await count_members(session, active_since=now - timedelta(days=30))
        active_halfyear = await count_members(session, active_since=now - timedelta(days=180))
        communities = await count_communities(session)
        local_posts = await count_local_posts(session)
        open_registrations = await get_signup_mode(session) == "open"
    software = {"name": "copnet", "version": __version__}
    if version == "2.1":
        software["homepage"] = request.app[URLS].root
    document = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": members,
                "activeMonth": active_month,
                "activeHalfyear": active_halfyear,
            },
            "localPosts": local_posts,
        },
        "metadata": {"nodeName": settings.instance_name, "communities": communities},
    }
    profile = NODEINFO_SCHEMA.format(version=version) + "#"
    return web.json_response(
        document,
        content_type=f'application/json; profile="{profile}"',
        headers=CORS,
    )
