"""URL map of a CoP's documents (see server.web.documents)."""

from __future__ import annotations

from aiohttp import web

from server.web import documents

ROUTE_NAME = "document"


def add_document_routes(app: web.Application) -> None:
    """Register the document routes and the media store; calling it twice is harmless."""
    if ROUTE_NAME in app.router.named_resources():
        return
    app.router.add_get("/c/{name}/documents", documents.community_documents, name="documents")
    app.router.add_post("/c/{name}/documents", documents.upload_document)
    app.router.add_get("/c/{name}/resources", documents.community_resources, name="resources")
    app.router.add_get("/d/{id}", documents.document_view, name=ROUTE_NAME)
    app.router.add_post("/d/{id}/versions", documents.upload_version)
    app.router.add_get(
        "/d/{id}/v/{version_id}", documents.download_version, name="document_version"
    )
