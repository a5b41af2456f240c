"""The image's entrypoint: builds DATABASE_URL from its parts, then runs the command given.

docker/compose.yaml passes the database's parts (POSTGRES_HOST, POSTGRES_PORT, POSTGRES_USER,
POSTGRES_DB and POSTGRES_PASSWORD, or POSTGRES_PASSWORD_FILE for a Docker secret) rather than a
URL, so that any password works: each part is percent-encoded here, so `@`, `:`, `/`, `%` or `#`
in a password cannot break the URL. A DATABASE_URL set in the environment is used as it is.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote


def database_url(environ: Mapping[str, str]) -> str | None:
    """DATABASE_URL from POSTGRES_* parts, or None when DATABASE_URL is set or no host is."""
    if environ.get("DATABASE_URL") or not environ.get("POSTGRES_HOST"):
        return None
    user = environ.get("POSTGRES_USER", "copnet")
    password = environ.get("POSTGRES_PASSWORD", "")
    password_file = environ.get("POSTGRES_PASSWORD_FILE")
    if password_file:
        password = Path(password_file).read_text(encoding="utf-8").rstrip("\r\n")
    credentials = quote(user, safe="")
    if password:
        credentials += ":" + quote(password, safe="")
    host = environ["POSTGRES_HOST"]
    port = environ.get("POSTGRES_PORT", "5432")
    database = quote(environ.get("POSTGRES_DB", user), safe="")
    return f"postgresql://{credentials}@{host}:{port}/{database}"


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: copnet-entrypoint COMMAND [ARG...]", file=sys.stderr)
        return 2
    url = database_url(os.environ)
    if url is not None:
        os.environ["DATABASE_URL"] = url
    os.execvp(argv[0], argv)  # noqa: S606 (the container command its operator chose)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
