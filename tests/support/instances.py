"""Running copnet instances in tests: in-process clients and real servers on loopback."""

from __future__ import annotations

import socket

from aiohttp import web

from models.communities import create_community
from server.appkeys import SESSIONS
from server.markdown import render_markdown
from server.settings import Settings, load_settings


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def settings_for(database_url: str, *, url: str = "https://copnet.test", **overrides) -> Settings:
    """Settings for a test instance; fetches may reach loopback."""
    return load_settings(
        {},
        url=url,
        database_url=database_url,
        allow_private_addresses=True,
        run_workers=False,
        **overrides,
    )


async def add_community(app: web.Application, name: str, title: str, summary: str = ""):
    """Create a CoP in a running app's database."""
    async with app[SESSIONS]() as session:
        community = await create_community(
            session, name, title=title, summary_source=summary,
            summary_html=render_markdown(summary),
        )  # fmt: skip
        await session.commit()
    return community
