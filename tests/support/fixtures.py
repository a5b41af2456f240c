"""Captured ActivityPub JSON from real servers, in ../shared/fixtures beside the repository."""

from __future__ import annotations

import json
import os
from pathlib import Path

FIXTURES = Path(
    os.environ.get(
        "COPNET_FIXTURES",
        Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "activitypub",
    )
)


def load_fixture(relative: str) -> dict:
    """One fixture document, e.g. load_fixture("lemmy/objects/group.json")."""
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
