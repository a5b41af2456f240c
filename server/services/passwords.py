"""Password rules and argon2id hashing (argon2-cffi, RFC 9106 parameters).

Hashing is deliberately slow (tens of milliseconds, 64 MiB); the async helpers run it in a
thread so the event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 1024  # long enough for any passphrase, short enough not to be a DoS lever
# The most common passwords that are at least MIN_LENGTH long (breach corpora top entries).
OBVIOUS = frozenset(
    {
        "1234567890",
        "0123456789",
        "qwertyuiop",
        "password123",
        "password12",
        "password1234",
        "1q2w3e4r5t",
        "iloveyou12",
        "abcdefghij",
        "1111111111",
    }
)

_hasher = PasswordHasher()  # argon2id, time_cost=3, memory_cost=64 MiB, parallelism=4
# A real hash to verify against when the account does not exist, so a wrong name takes as
# long as a wrong password and sign-in does not reveal which names are members.
_DUMMY_HASH = _hasher.hash("copnet: there is no such account")


class WeakPassword(ValueError):
    """The proposed password breaks a rule; the message says which, in plain words."""


def _normalize(password: str) -> str:
    # The same passphrase typed on two keyboards must match (NIST SP 800-63B §5.1.1.2).
    return unicodedata.normalize("NFKC", password)


def check_password_rules(password: str, *, name: str = "") -> None:
    """Raise WeakPassword unless the password is long enough and not an obvious one."""
    normalized = _normalize(password)
    if len(normalized) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters; a short sentence works well.")
    if len(normalized) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    folded = normalized.casefold()
    if folded in OBVIOUS or len(set(folded)) == 1:
        raise WeakPassword("That password is one of the first an attacker would try.")
    handle = name.casefold()
    if handle and folded.startswith(handle) and not any(c.isalpha() for c in folded[len(handle) :]):
        raise WeakPassword("Your password must not be your name with a few digits added.")


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string: algorithm, parameters, salt, digest) to store."""
    return _hasher.hash(_normalize(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if the password matches; never raises for a malformed hash or missing account."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, _normalize(password)) and bool(
            stored_hash
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with older or weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


async def hash_password_async(password: str) -> str:
    """hash_password in a worker thread."""
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(stored_hash: str | None, password: str) -> bool:
    """verify_password in a worker thread."""
    return await asyncio.to_thread(verify_password, stored_hash, password)
