"""Markdown to safe HTML for summaries and posts written on this server."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

from server.services.content import SAFE_TAGS

_renderer = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False}
).enable("table")  # GitHub-style pipe tables: rotas, audit figures, dosing charts

ALLOWED_TAGS = SAFE_TAGS


def render_markdown(source: str) -> str:
    """Render CommonMark (raw HTML disabled) and pass it through the allowlist sanitiser."""
    return sanitize_html(_renderer.render(source))


def sanitize_html(html: str) -> str:
    """Keep only the allowlisted tags; links get rel=nofollow noopener."""
    return nh3.clean(html, tags=ALLOWED_TAGS, link_rel="nofollow noopener noreferrer")
