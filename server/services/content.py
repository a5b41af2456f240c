"""Remote HTML made safe to store and show, and titles derived from it."""

from __future__ import annotations

import html
import re

import nh3

# What both remote HTML and our own rendered Markdown may keep; tables keep their structure only
# (Markdown tables written here, Lemmy's rendered Markdown).
SAFE_TAGS = frozenset(
    "p br a span strong em b i u s del code pre blockquote ul ol li h1 h2 h3 h4 h5 h6 hr "
    "table thead tbody tr th td".split()
)
REMOTE_TAGS = SAFE_TAGS | {"sub", "sup"}
# Mastodon marks mentions and hashtags with these microformat classes; keep them for styling.
REMOTE_CLASSES = {
    "a": {"mention", "hashtag", "u-url", "status-link"},
    "span": {"h-card", "invisible", "ellipsis"},
}
TITLE_LIMIT = 200
_BLOCK_END = re.compile(r"(?i)</(p|div|h[1-6]|li|blockquote|pre)>|<br\s*/?>")
_LEADING_MENTIONS = re.compile(r"^(?:\s*@[\w.\-]+(?:@[\w.\-:]+)?[,:]?)+\s*")


def sanitize_remote_html(value: str) -> str:
    """Keep only an allowlist of tags, attributes and classes; links open safely."""
    return nh3.clean(
        value,
        tags=REMOTE_TAGS,
        attributes={"a": {"href", "title"}},
        allowed_classes=REMOTE_CLASSES,
        link_rel="nofollow noopener noreferrer ugc",
        url_schemes={"http", "https", "mailto"},
    )


def html_to_text(value: str) -> str:
    """Plain text of an HTML fragment, one line per paragraph or line break."""
    with_breaks = _BLOCK_END.sub("\n", value)
    return html.unescape(nh3.clean(with_breaks, tags=set()))


def title_from(name: str, content_html: str) -> str:
    """A thread title: the object's name, else its first line without leading mentions."""
    if name.strip():
        return _shorten(name.strip())
    for line in html_to_text(content_html).splitlines():
        line = _LEADING_MENTIONS.sub("", line).strip()
        if line:
            return _shorten(line)
    return "Untitled"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= TITLE_LIMIT:
        return text
    return text[: TITLE_LIMIT - 1].rsplit(" ", 1)[0] + "…"
