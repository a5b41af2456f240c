"""Typed keys for everything stored on the aiohttp application."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.fetch import Fetcher
from server.settings import Settings
from server.urls import Urls

SETTINGS = web.AppKey("settings", Settings)
URLS = web.AppKey("urls", Urls)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
CLIENT = web.AppKey("client", aiohttp.ClientSession)
FETCHER = web.AppKey("fetcher", Fetcher)
