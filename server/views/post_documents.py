"""A local post's AS2 document as served at its id, in the shape the asking server reads."""

from __future__ import annotations

from aiohttp import web

from federation.nodeinfo import audience_kind
from federation.origin import authority
from federation.signature_header import SignatureError, parse_signature_header
from models.account_lifecycle import language_of_post
from models.actors import Actor
from models.communities import Community
from models.instances import software_by_domain
from models.posts import Post, direct_replies
from server.as2.posts import post_object
from server.as2.replies import REPLIES_PAGE_SIZE
from server.urls import Urls


def signer_domain(request: web.Request) -> str | None:
    """The domain of the key a fetch is signed with (only to pick a shape, never to trust)."""
    header = request.headers.get("Signature") or request.headers.get("Authorization")
    if not header:
        return None
    try:
        key_id = parse_signature_header(header).key_id
    except SignatureError:
        return None
    return authority(key_id)


async def wants_microblog_shape(request: web.Request, session) -> bool:
    """Only servers known (NodeInfo) as threadiverse software get a thread's `name`: Mastodon
    and GoToSocial fetch the object of a plain Announce, signed, and GoToSocial would show the
    `name` as a content warning."""
    domain = signer_domain(request)
    if domain is None:
        return True
    software = (await software_by_domain(session, [domain])).get(domain)
    return audience_kind(software) != "threadiverse"


async def served_post_object(
    request: web.Request, session, urls: Urls, post: Post, parent_id: str | None
) -> dict:
    """The Note (or Tombstone) of a local post, with its first page of replies embedded."""
    author = await session.get(Actor, post.author_id)
    group = await session.get(Actor, post.community_id)
    community = await session.get(Community, post.community_id)
    total, replies = await direct_replies(session, post.id, limit=REPLIES_PAGE_SIZE)
    return post_object(
        urls,
        post,
        author,
        group,
        parent_id,
        language=await language_of_post(session, post.author_id, community),
        microblog=await wants_microblog_shape(request, session),
        replies=(total, [urls.post_id_of(reply) for reply in replies]),
        private=community is not None and community.manually_approves_followers,
    )
