"""Typed keys for everything stored on the aiohttp application."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from federation.fetch import Fetcher
from federation.inbox_client import InboxClient
from federation.keyresolver import KeyResolver
from server.http.ratelimit import LoginRateLimiter, SlidingWindow
from server.media.store import MediaStore
from server.peers.policy import FederationPolicy
from server.peers.remote import RemoteActors
from server.peers.signature_knocks import SignatureKnocks
from server.services.localnames import LocalNames
from server.settings import Settings
from server.urls import Urls
from server.workers.delivery import DeliveryWorker
from server.workers.inbox_writer import IntakeWriter
from server.workers.intake import IntakeWorker
from server.workers.scheduler import SchedulerWorker

if TYPE_CHECKING:  # the metrics module reads these keys
    from server.ops.metrics import Metrics

SETTINGS = web.AppKey("settings", Settings)
URLS = web.AppKey("urls", Urls)
ENGINE = web.AppKey("engine", AsyncEngine)
SESSIONS = web.AppKey("sessions", async_sessionmaker[AsyncSession])
CLIENT = web.AppKey("client", aiohttp.ClientSession)
INBOX_CLIENT = web.AppKey("inbox_client", InboxClient)
FETCHER = web.AppKey("fetcher", Fetcher)
WRITE_SESSIONS = web.AppKey("write_sessions", async_sessionmaker[AsyncSession])
KEY_RESOLVER = web.AppKey("key_resolver", KeyResolver)
POLICY = web.AppKey("policy", FederationPolicy)
REMOTE = web.AppKey("remote", RemoteActors)
SIGNATURE_KNOCKS = web.AppKey("signature_knocks", SignatureKnocks)
INTAKE = web.AppKey("intake", IntakeWorker)
DELIVERY = web.AppKey("delivery", DeliveryWorker)
INTAKE_WRITER = web.AppKey("intake_writer", IntakeWriter)
LOCAL_NAMES = web.AppKey("local_names", LocalNames)
SCHEDULER = web.AppKey("scheduler", SchedulerWorker)
MEDIA = web.AppKey("media", MediaStore)
LOGIN_LIMITER = web.AppKey("login_limiter", LoginRateLimiter)
SIGNUP_LIMITER = web.AppKey("signup_limiter", SlidingWindow)
LIKE_LIMITER = web.AppKey("like_limiter", SlidingWindow)
RESET_ADDRESS_LIMITER = web.AppKey("reset_address_limiter", SlidingWindow)
RESET_EMAIL_LIMITER = web.AppKey("reset_email_limiter", SlidingWindow)
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
