"""AS2 ordered collections and their pages, as every collection copnet serves is shaped."""

from __future__ import annotations

from federation.vocab import AS_CONTEXT

PAGE_SIZE = 20


def ordered_collection(collection_id: str, total: int, *, items: list | None = None) -> dict:
    """An OrderedCollection: inline items for small ones, else a link to the first page."""
    document = {
        "@context": AS_CONTEXT,
        "id": collection_id,
        "type": "OrderedCollection",
        "totalItems": total,
    }
    if items is not None:
        document["orderedItems"] = items
    else:
        document["first"] = f"{collection_id}?page=1"
    return document


def ordered_collection_page(
    collection_id: str, page: int, items: list, *, has_next: bool, total: int
) -> dict:
    """One page of an OrderedCollection, linked to its neighbours."""
    document = {
        "@context": AS_CONTEXT,
        "id": f"{collection_id}?page={page}",
        "type": "OrderedCollectionPage",
        "partOf": collection_id,
        "totalItems": total,
        "orderedItems": items,
    }
    if page > 1:
        document["prev"] = f"{collection_id}?page={page - 1}"
    if has_next:
        document["next"] = f"{collection_id}?page={page + 1}"
    return document
