"""Remote instances: what software they run and whether they are reachable."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class Instance(Base):
    """One remote host, keyed by its domain (host[:port])."""

    __tablename__ = "instances"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    software: Mapped[str | None] = mapped_column(String(64))
    software_version: Mapped[str | None] = mapped_column(String(64))
    nodeinfo_fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    unreachable_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


async def software_by_domain(
    session: AsyncSession, domains: Iterable[str]
) -> dict[str, str | None]:
    """The NodeInfo software name of each known domain."""
    wanted = sorted({d for d in domains if d})
    found: dict[str, str | None] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(Instance.domain, Instance.software).where(Instance.domain.in_(chunk))
        found.update({domain: software for domain, software in await session.execute(query)})
    return found
