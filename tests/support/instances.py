"""Running copnet instances in tests: in-process clients and real servers on loopback."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from federation.fetch import Fetcher, FetchPolicy
from federation.keyresolver import KeyResolver, MemoryKeyCache
from federation.netguard import make_connector
from models.communities import create_community
from server.app import create_app
from server.appkeys import SESSIONS
from server.services.markdown import render_markdown
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
            session,
            name,
            title=title,
            summary_source=summary,
            summary_html=render_markdown(summary),
        )
        await session.commit()
    return community


@dataclass
class Running:
    """A copnet instance serving over TCP, with handles tests need."""

    app: web.Application
    url: str
    client: aiohttp.ClientSession

    async def community(self, name: str, title: str = "", summary: str = ""):
        """Create a CoP; returns its actor URL."""
        await add_community(self.app, name, title or name.title(), summary)
        return f"{self.url}/c/{name}"

    def app_policy_invalidate(self) -> None:
        """Make the running app re-read the federation policy now."""
        from server.appkeys import POLICY

        self.app[POLICY].invalidate()

    async def settle(self, rounds: int = 10) -> None:
        """Run intake and delivery until both queues are empty (no sleeping)."""
        from server.appkeys import DELIVERY, INTAKE

        for _ in range(rounds):
            handled = await self.app[INTAKE].run_once() + await self.app[DELIVERY].run_once()
            if not handled:
                return
        raise AssertionError("queues did not settle")


async def start_copnet(
    aiohttp_server, database_url: str, fake, *, host: str, port: int | None = None
) -> Running:
    """Serve copnet at http://HOST:PORT over real TCP, able to reach the fake fediverse."""
    from tests.support.fakeremote import loopback_host_map

    port = port or free_port()
    url = f"http://{host}:{port}"
    app = create_app(settings_for(database_url, url=url, host_map=loopback_host_map()))
    await aiohttp_server(app, port=port)
    client = aiohttp.ClientSession(
        connector=make_connector(allow_private=True, host_map=loopback_host_map())
    )
    if fake is not None:
        fake.key_resolver = KeyResolver(
            Fetcher(client, FetchPolicy(allow_private=True)), MemoryKeyCache()
        )
    return Running(app=app, url=url, client=client)
