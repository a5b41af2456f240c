"""A harvest page as people read it: its Markdown with each `[[source:N]]` line turned into a
quoted block that names where it came from, rendered and sanitised like a post.

A withdrawn source shows only that it was withdrawn; a marker naming no source of this page
shows that a source is missing (a page never quotes another page's sources).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from urllib.parse import quote

from models.harvest import SOURCE_CHANGED, SOURCE_MARKER, SOURCE_WITHDRAWN, HarvestPage, PageSource
from server.services.markdown import render_markdown

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!<>|~])")
WITHDRAWN_TEXT = "A source was withdrawn by its author."
MISSING_TEXT = "(A source of this page is missing.)"
# Rendering a long page with hundreds of quotes takes far longer than reading it from the
# database, and a page only changes with a revision or a source's state.
CACHE_SIZE = 256
_rendered: OrderedDict[tuple, str] = OrderedDict()


def escape(text: str) -> str:
    """Text that Markdown shows as it is."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _link_target(url: str) -> str:
    return quote(url, safe=":/?#[]@!$&'*+,;=%-._~")


def provenance_line(source: PageSource) -> str:
    """Who wrote the quote, where, when and in which CoP, as one Markdown line."""
    who = f"**{escape(source.author_name or 'someone')}**"
    if source.author_handle:
        who += f" ({escape(source.author_handle)})"
    parts = [f"— {who}", f"[original post]({_link_target(source.post_url)})"]
    if source.posted_at is not None:
        parts.append(source.posted_at.strftime("%d %b %Y"))
    if source.community_name:
        parts.append(escape(source.community_name))
    if source.state == SOURCE_CHANGED:
        parts.append("*edited by its author since it was harvested*")
    return " · ".join(parts)


def quote_block(source: PageSource | None) -> str:
    """The Markdown that stands in a page for one source marker."""
    if source is None:
        return f"*{escape(MISSING_TEXT)}*"
    if source.state == SOURCE_WITHDRAWN:
        return f"> *{escape(WITHDRAWN_TEXT)}*"
    lines = [f"> {line}" if line.strip() else ">" for line in source.quote.splitlines()]
    return "\n".join([*lines, ">", f"> {provenance_line(source)}"])


def page_markdown(body: str, sources: dict[int, PageSource]) -> str:
    """The body with every source marker replaced by its quoted block."""

    def block(match: re.Match) -> str:
        return "\n" + quote_block(sources.get(int(match.group(1)))) + "\n"

    return SOURCE_MARKER.sub(block, body)


def render_page(body: str, sources: list[PageSource]) -> str:
    """Safe HTML of a page body (raw HTML, scripts and images never survive)."""
    return render_markdown(page_markdown(body, {source.id: source for source in sources}))


def render_page_cached(page: HarvestPage, sources: list[PageSource]) -> str:
    """`render_page` of a page as it stands, remembered per revision and source states."""
    key = (
        page.id,
        page.revision_number,
        page.updated_at,
        tuple((source.id, source.state, len(source.quote)) for source in sources),
    )
    html = _rendered.get(key)
    if html is None:
        html = render_page(page.body, sources)
        _rendered[key] = html
        if len(_rendered) > CACHE_SIZE:
            _rendered.popitem(last=False)
    else:
        _rendered.move_to_end(key)
    return html


def plain_markdown(body: str, sources: list[PageSource]) -> str:
    """The body as Markdown with its quotes written out (for exports)."""
    return page_markdown(body, {source.id: source for source in sources})
