"""A post's `replies`: a `Collection` whose `first` page is embedded.

Mastodon's `ActivityPub::FetchRepliesService` reads `replies`, takes its `first` when present
and then the page's `items` (`Collection`/`CollectionPage`), following `next`; GoToSocial's
dereferencer (`internal/federation/dereferencing/`) walks `replies` the same way from `first`.
A bare URL is fetched first, so the embedded form saves a request per post.
"""

from __future__ import annotations

from federation.vocab import AS_CONTEXT

REPLIES_PAGE_SIZE = 20


def replies_id(post_url: str) -> str:
    """The id of a post's replies collection."""
    return post_url + "/replies"


def replies_page(post_url: str, page: int, items: list[str], *, has_next: bool) -> dict:
    """One `CollectionPage` of direct replies (ids), oldest first."""
    collection = replies_id(post_url)
    document = {
        "id": f"{collection}?page={page}",
        "type": "CollectionPage",
        "partOf": collection,
        "items": items,
    }
    if has_next:
        document["next"] = f"{collection}?page={page + 1}"
    return document


def replies_collection(post_url: str, total: int, first_items: list[str]) -> dict:
    """The `replies` value of a post: the collection with its first page embedded."""
    return {
        "id": replies_id(post_url),
        "type": "Collection",
        "totalItems": total,
        "first": replies_page(post_url, 1, first_items, has_next=total > len(first_items)),
    }


def standalone(document: dict) -> dict:
    """A collection or page served on its own, with its JSON-LD context."""
    return {"@context": AS_CONTEXT, **document}
