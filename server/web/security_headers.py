"""Headers every response carries: no page of ours may be framed by another site (clickjacking:
a hidden "Delete my account" button under someone's click)."""

from __future__ import annotations

from aiohttp import web

FRAME_ANCESTORS = "frame-ancestors 'none'"


async def forbid_framing(_request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: `frame-ancestors 'none'` added to (or as) the CSP; X-Frame-Options
    DENY for browsers that predate CSP level 2."""
    policy = response.headers.get("Content-Security-Policy")
    if not policy:
        response.headers["Content-Security-Policy"] = FRAME_ANCESTORS
    elif "frame-ancestors" not in policy:
        response.headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; {FRAME_ANCESTORS}"
    response.headers.setdefault("X-Frame-Options", "DENY")
