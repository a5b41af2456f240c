"""Secrets never reach the database in the clear: a session cookie's token and an invitation code
are stored as their SHA-256 hex digests, so a leaked database opens no browser session and
redeems no invitation."""

from __future__ import annotations

import hashlib


def digest(secret: str) -> str:
    """SHA-256 hex digest of a token or code (what the database stores)."""
    return hashlib.sha256(secret.encode()).hexdigest()
