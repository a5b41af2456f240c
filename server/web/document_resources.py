"""A CoP's `resources`: its Documents as an ActivityPub OrderedCollection (as Mobilizon has)."""

from __future__ import annotations

from aiohttp import web

from models.actors import Actor, actors_by_ids
from models.document_queries import ListedDocument, list_documents
from server.appkeys import SESSIONS, URLS
from server.as2.collections import PAGE_SIZE, ordered_collection, ordered_collection_page
from server.as2.documents import document_object
from server.http.errors import http_error
from server.http.responses import activity_json, page_number
from server.urls import Urls
from server.web.community_access import visible_community
from server.web.private_access import may_read


async def community_resources(request: web.Request) -> web.Response:
    """GET /c/{name}/resources: the CoP's Documents as an OrderedCollection (Mobilizon)."""
    urls = request.app[URLS]
    page = page_number(request)
    async with request.app[SESSIONS]() as session:
        community = await visible_community(request, session, request.match_info["name"])
        if not await may_read(request, session, community):
            raise http_error(404, "no such community's documents")
        collection_id = urls.community_part(community.actor.local_name or "", "resources")
        offset = ((page or 1) - 1) * PAGE_SIZE
        found = await list_documents(session, community.actor_id, limit=PAGE_SIZE, offset=offset)
        if page is None:
            return activity_json(ordered_collection(collection_id, found.total))
        uploaders = await actors_by_ids(
            session, {item.document.uploader_id for item in found.items}
        )
    items = [_listed_object(urls, item, community.actor, uploaders) for item in found.items]
    return activity_json(
        ordered_collection_page(
            collection_id, page, items, has_next=page * PAGE_SIZE < found.total, total=found.total
        )
    )


def _listed_object(
    urls: Urls, item: ListedDocument, community: Actor, uploaders: dict[int, Actor]
) -> dict:
    document = document_object(
        urls,
        item.document,
        item.latest,
        community=community,
        uploader=uploaders[item.document.uploader_id],
    )
    document.pop("@context")
    return document
