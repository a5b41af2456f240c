"""Rendering a mail's two parts from templates: `mail_NAME.txt` (plain) and `mail_NAME.html`.

The HTML part is autoescaped; the text part is not HTML and is not escaped. Both get the same
context, plus `unsubscribe_url` for non-essential mail.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render(name: str, context: dict[str, Any]) -> tuple[str, str]:
    """(plain text, HTML) of the mail template pair `name`."""
    environment = _environment()
    text = environment.get_template(f"mail_{name}.txt").render(context)
    html = environment.get_template(f"mail_{name}.html").render(context)
    return text, html
