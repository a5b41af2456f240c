"""Rules for local actor names (CoPs, members, the instance actor share one namespace)."""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(r"[a-z0-9_]{1,64}")
# Names that would confuse people or collide with well-known handles.
RESERVED_NAMES = frozenset(
    {"instance", "admin", "administrator", "root", "system", "copnet", "former_member"}
)


class InvalidName(ValueError):
    """A proposed actor name breaks the naming rules."""


def validate_name(name: str) -> str:
    """Return the name if it is a valid local actor name, else raise InvalidName."""
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidName(
            f"invalid name {name!r}: use 1-64 lowercase letters, digits or underscores"
        )
    if name in RESERVED_NAMES:
        raise InvalidName(f"the name {name!r} is reserved")
    return name
