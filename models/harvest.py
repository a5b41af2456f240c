"""A CoP's harvest: knowledge pages, every revision of them, and the posts they quote.

A page's current wording is copied onto its row (for fast reading and search); each revision
keeps a full copy with its author, time and edit note. A harvested quote lives in
`harvest_sources`, and a page body refers to it by a `[[source:N]]` line, so withdrawing a
source drops its text from every revision at once.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, UTCDateTime, utcnow

SOURCE_CURRENT = "current"
SOURCE_CHANGED = "changed"  # the post was edited after it was harvested
SOURCE_WITHDRAWN = "withdrawn"  # the post was deleted: its text is gone from here too
# The line of a page body that stands for one harvested quote: `[[source:N]]`.
SOURCE_MARKER = re.compile(r"^\[\[source:(\d{1,18})\]\][ \t]*$", re.MULTILINE)


class HarvestPage(Base):
    """A knowledge page of a CoP; `ap_id` is set only for pages archived from another server."""

    __tablename__ = "harvest_pages"
    __table_args__ = (Index("ix_harvest_pages_community_updated", "community_id", "updated_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ap_id: Mapped[str | None] = mapped_column(String(2048), unique=True)
    community_id: Mapped[int] = mapped_column(BigId, ForeignKey("actors.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    revision_number: Mapped[int] = mapped_column(Integer, default=1)
    # What the page is about, for the Network-wide Harvest index ("Pressure care").
    topic: Mapped[str] = mapped_column(String(100), default="", server_default="")
    created_by: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Retired pages are kept and marked out of date rather than deleted.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The revision followers last heard about (Create or Update), and when.
    announced_revision: Mapped[int] = mapped_column(Integer, default=0)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None


class PageRevision(Base):
    """One wording of a page: number 1 is its creation, each edit or restore adds one."""

    __tablename__ = "harvest_revisions"
    __table_args__ = (UniqueConstraint("page_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    page_id: Mapped[int] = mapped_column(BigId, ForeignKey("harvest_pages.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="SET NULL")
    )
    note: Mapped[str] = mapped_column(Text, default="")
    restored_from: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PageSource(Base):
    """A quote harvested into a page, with its provenance as it was when harvested."""

    __tablename__ = "harvest_sources"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    page_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("harvest_pages.id", ondelete="CASCADE"), index=True
    )
    post_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    post_url: Mapped[str] = mapped_column(String(2048))
    author_name: Mapped[str] = mapped_column(String(255), default="")
    author_handle: Mapped[str] = mapped_column(String(512), default="")
    community_name: Mapped[str] = mapped_column(String(255), default="")
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quote: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=SOURCE_CURRENT)
    harvested_by: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("actors.id", ondelete="SET NULL")
    )
    harvested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
