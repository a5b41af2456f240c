"""Length limits of what people type: a text over its limit is refused with the numbers, never
silently cut (a cut post would publish something its author did not write)."""

from __future__ import annotations

from collections.abc import Mapping

from server.http.errors import http_error


def limited_field(form: Mapping, name: str, limit: int, what: str) -> str:
    """The trimmed value of a form field; 400 saying by how much it is too long."""
    raw = form.get(name, "")
    value = raw.strip() if isinstance(raw, str) else ""
    if len(value) > limit:
        raise http_error(
            400,
            f"Your {what} is {len(value):,} characters long; the limit is {limit:,}. "
            "Please shorten it and send it again (your browser's Back button keeps your text).",
        )
    return value
