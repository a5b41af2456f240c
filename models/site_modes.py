"""The two site-wide modes an admin sets: who may sign up, and who may start a CoP."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.policy import SiteSetting

log = logging.getLogger(__name__)

SIGNUP_MODE_KEY = "signup.mode"
SIGNUP_MODES = ("open", "invite")
DEFAULT_SIGNUP_MODE = "open"
COP_CREATION_KEY = "communities.creation"
COP_CREATION_MODES = ("anyone", "approval")
DEFAULT_COP_CREATION = "anyone"


async def _get_setting(session: AsyncSession, key: str, allowed: tuple[str, ...], default: str):
    value = await session.scalar(select(SiteSetting.value).where(SiteSetting.key == key))
    if value is None:
        return default
    if value not in allowed:
        log.warning("unknown value %r for %s in site_settings; using %s", value, key, allowed[-1])
        return allowed[-1]  # the stricter choice: invite-only, approval
    return value


async def _set_setting(
    session: AsyncSession, key: str, value: str, allowed: tuple[str, ...]
) -> None:
    if value not in allowed:
        raise ValueError(f"unknown value {value!r} for {key}; use one of {', '.join(allowed)}")
    setting = await session.get(SiteSetting, key)
    if setting is None:
        session.add(SiteSetting(key=key, value=value))
    else:
        setting.value = value
    await session.flush()


async def get_signup_mode(session: AsyncSession) -> str:
    """`open` (anyone may join) or `invite` (an unused invitation code is needed)."""
    return await _get_setting(session, SIGNUP_MODE_KEY, SIGNUP_MODES, DEFAULT_SIGNUP_MODE)


async def set_signup_mode(session: AsyncSession, mode: str) -> None:
    """Change the sign-up mode (the caller commits)."""
    await _set_setting(session, SIGNUP_MODE_KEY, mode, SIGNUP_MODES)


async def get_cop_creation(session: AsyncSession) -> str:
    """`anyone` (members start CoPs at once) or `approval` (an admin approves each one)."""
    return await _get_setting(session, COP_CREATION_KEY, COP_CREATION_MODES, DEFAULT_COP_CREATION)


async def set_cop_creation(session: AsyncSession, mode: str) -> None:
    """Change who may start a CoP (the caller commits)."""
    await _set_setting(session, COP_CREATION_KEY, mode, COP_CREATION_MODES)
