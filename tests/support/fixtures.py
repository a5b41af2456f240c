"""Captured ActivityPub JSON from real servers, kept in tests/fixtures/ (see its README)."""

from __future__ import annotations

import json
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "activitypub"

# Tests are parametrised over these files at collection time: a missing folder must fail the
# run loudly, never shrink it to nothing.
if not FIXTURES.is_dir() or not any(FIXTURES.glob("*/activities/**/*.json")):
    raise FileNotFoundError(
        f"captured fixtures missing: {FIXTURES} (they ship with the repository)"
    )


def load_fixture(relative: str) -> dict:
    """One fixture document, e.g. load_fixture("lemmy/objects/group.json")."""
    return json.loads((FIXTURES / relative).read_text(encoding="utf-8"))
