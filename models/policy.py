"""Federation policy: open, blocklist or allowlist mode, and per-domain entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class DomainPolicy(Base):
    """An admin's decision about one domain: `allow` or `block`."""

    __tablename__ = "domain_policies"

    domain: Mapped[str] = mapped_column(String(255), primary_key=True)
    action: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SiteSetting(Base):
    """A Network-wide setting an admin changes at run time (e.g. the federation mode)."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
