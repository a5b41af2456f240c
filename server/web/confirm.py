"""A second step for actions that cannot be undone by a click: the first POST (the button on the
page) shows what will happen and asks; only the form on that page, carrying `confirm=yes`, acts.

Works without JavaScript and with every assistive technology: it is an ordinary page.
"""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from server.appkeys import SETTINGS

FIELD = "confirm"


async def ask_first(
    request: web.Request, *, question: str, detail: str, action: str, back: str
) -> web.Response | None:
    """None when the request confirms; else the page asking (the caller returns it)."""
    form = await request.post()
    if form.get(FIELD) == "yes":
        return None
    context = {
        "settings": request.app[SETTINGS],
        "question": question,
        "detail": detail,
        "action": action,
        "target": request.path,
        "back": back,
    }
    response = aiohttp_jinja2.render_template("confirm.html", request, context)
    response.headers["Cache-Control"] = "private, no-store"
    return response
