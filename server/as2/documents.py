"""Documents as AS2: the Mobilizon-style `Document` a CoP's resources collection lists."""

from __future__ import annotations

import html

from federation.vocab import AS_CONTEXT, PUBLIC, format_datetime
from models.actors import Actor
from models.documents import Document, DocumentVersion
from server.media.store import served_type
from server.urls import Urls


def document_object(
    urls: Urls,
    document: Document,
    latest: DocumentVersion,
    *,
    community: Actor,
    uploader: Actor,
) -> dict:
    """The AS2 `Document` of a resource, as Mobilizon federates one."""
    community_url = urls.actor(community)
    media_type, _inline = served_type(latest.media_type)
    summary = html.escape(document.description).replace("\n", "<br>")
    return {
        "@context": AS_CONTEXT,
        "id": urls.document(document.id),
        "type": "Document",
        "name": document.title,
        "summary": summary,
        "url": urls.document_version(document.id, latest.id),
        "mediaType": media_type.split(";")[0],
        "context": urls.community_part(community.local_name or "", "resources"),
        "attributedTo": community_url,
        "actor": urls.actor(uploader),
        "audience": community_url,
        "to": [PUBLIC],
        "cc": [community_url + "/followers"],
        "published": format_datetime(document.created_at),
        "updated": format_datetime(document.updated_at),
    }
