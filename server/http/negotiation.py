"""Content negotiation between ActivityStreams JSON and HTML at the same URL."""

from __future__ import annotations

from typing import Literal

from server.http.errors import http_error

AS_PROFILE = "https://www.w3.org/ns/activitystreams"
AS2_CONTENT_TYPE = "application/activity+json"
Representation = Literal["as2", "html"]

# (media type, representation, specificity); application/json is a lenient extra for AS2.
_OFFERS: tuple[tuple[str, Representation], ...] = (
    ("application/activity+json", "as2"),
    ("application/ld+json", "as2"),
    ("application/json", "as2"),
    ("text/html", "html"),
)


def choose_representation(
    accept: str | None, *, default: Representation = "html"
) -> Representation:
    """Pick AS2 or HTML for an Accept header; 400 if malformed, 406 if neither is acceptable."""
    if accept is None or not accept.strip():
        return default
    best: dict[Representation, tuple[float, int]] = {}
    for media_type, params in _parse_accept(accept):
        quality = params.get("q", 1.0)
        for offered, representation in _OFFERS:
            specificity = _match(media_type, params, offered)
            if specificity < 0:
                continue
            current = best.get(representation)
            # The most specific matching range decides the quality (RFC 9110 §12.5.1).
            if current is None or specificity > current[1]:
                best[representation] = (float(quality), specificity)
    acceptable = {rep: score for rep, score in best.items() if score[0] > 0}
    if not acceptable:
        raise http_error(
            406, "this resource is available as text/html or application/activity+json"
        )
    if len(acceptable) == 1:
        return next(iter(acceptable))
    as2, html = acceptable["as2"], acceptable["html"]
    if as2 == html:
        return default
    return "as2" if as2 > html else "html"


def _match(media_type: str, params: dict, offered: str) -> int:
    if media_type == "*/*":
        return 0
    main, _, sub = media_type.partition("/")
    if sub == "*":
        return 1 if offered.startswith(main + "/") else -1
    if media_type != offered:
        return -1
    profile = params.get("profile")
    if offered == "application/ld+json" and profile is not None and AS_PROFILE not in profile:
        return -1
    return 2


def _parse_accept(header: str) -> list[tuple[str, dict]]:
    ranges = []
    for part in header.split(","):
        part = part.strip()
        if not part:
            continue
        media_type, *raw_params = (piece.strip() for piece in part.split(";"))
        media_type = media_type.lower()
        main, slash, sub = media_type.partition("/")
        if not slash or not main or not sub or (main == "*" and sub != "*"):
            raise http_error(400, f"malformed Accept header: {media_type!r} is not a media range")
        params: dict[str, object] = {}
        for raw in raw_params:
            name, equals, value = raw.partition("=")
            if not equals:
                continue
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                params["q"] = _quality(value)
            else:
                params[name] = value
        ranges.append((media_type, params))
    if not ranges:
        raise http_error(400, "malformed Accept header: no media ranges")
    return ranges


def _quality(value: str) -> float:
    try:
        quality = float(value)
    except ValueError:
        raise http_error(400, f"malformed Accept header: q={value!r} is not a number") from None
    if not 0 <= quality <= 1:
        raise http_error(400, f"malformed Accept header: q={value} is not between 0 and 1")
    return quality
