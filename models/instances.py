"""Remote instances: what software they run and whether they are reachable."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from federation.knock import CAVAGE, RFC9421
from models.base import Base, UTCDateTime
from models.upsert import dialect_insert

# What a server accepts, as learnt (docs/architecture.md, "Signatures"): RFC9421 = it signed to
# us with RFC 9421 or accepted our RFC 9421 knock; CAVAGE = it refused an RFC 9421 knock and
# accepted draft-cavage (final: never knocked with RFC 9421 again); NULL = not learnt yet.
SIGNATURE_STANDARDS = (RFC9421, CAVAGE)


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
    signature_standard: Mapped[str | None] = mapped_column(String(16))
    signature_learned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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


async def signature_standards(
    session: AsyncSession, domains: Iterable[str]
) -> dict[str, str | None]:
    """The learnt signature standard of each known domain (None: not learnt yet)."""
    wanted = sorted({d for d in domains if d})
    found: dict[str, str | None] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        query = select(Instance.domain, Instance.signature_standard).where(
            Instance.domain.in_(chunk)
        )
        found.update({domain: standard for domain, standard in await session.execute(query)})
    return found


async def remember_signature_standard(
    session: AsyncSession, domain: str, standard: str, *, now: datetime, only_if_unknown: bool
) -> None:
    """Record what a server accepts; `only_if_unknown` leaves a learnt answer alone."""
    if standard not in SIGNATURE_STANDARDS:
        raise ValueError(f"unknown signature standard {standard!r}")
    statement = dialect_insert(session)(Instance).values(
        domain=domain,
        consecutive_failures=0,
        signature_standard=standard,
        signature_learned_at=now,
    )
    changes = {"signature_standard": standard, "signature_learned_at": now}
    where = Instance.signature_standard.is_(None) if only_if_unknown else None
    await session.execute(
        statement.on_conflict_do_update(index_elements=["domain"], set_=changes, where=where)
    )
