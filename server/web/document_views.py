"""What the document pages share: who may upload to a CoP, and what every document template
is given besides its own context."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from models.document_queries import is_community_member
from server.appkeys import SETTINGS
from server.media.store import KINDS, human_size
from server.services.content import html_to_text
from server.services.markdown import render_markdown
from server.web.auth import Member


async def may_share_documents(session, member: Member | None, community_id: int) -> bool:
    """Only a signed-in member of the CoP shares documents (and versions) there."""
    if member is None:
        return False
    return await is_community_member(session, actor_id=member.actor_id, community_id=community_id)


def render_document_page(request: web.Request, template: str, context: dict, *, status: int = 200):
    """Render a document template with the settings, size and kind helpers it uses."""
    context = {
        "settings": request.app[SETTINGS],
        "human_size": human_size,
        "kinds": KINDS,
        "plain": lambda markdown: html_to_text(render_markdown(markdown)).strip(),
        **context,
    }
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers["Vary"] = "Accept, Cookie"
    return response
