"""`copnet backup DIR` and `copnet restore DIR`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server.ops.backup import BackupError, backup, restore
from server.settings import Settings


def add_backup_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register `backup DIR` and `restore DIR`."""
    saving = subparsers.add_parser(
        "backup",
        help="save the database and the media files into a directory",
        description="Safe while copnet runs. PostgreSQL is saved with pg_dump (Debian package "
        "postgresql-client), SQLite with its online backup API; media files are copied and "
        "every file is listed with its sha256 in DIR/manifest.json.",
    )
    saving.add_argument("directory", metavar="DIR", type=Path, help="created if missing")
    saving.add_argument(
        "--force", action="store_true", help="replace the backup already in a non-empty DIR"
    )
    saving.set_defaults(handler=_reporting(backup))

    loading = subparsers.add_parser(
        "restore",
        help="restore a backup into the configured database and media directory",
        description="Stop copnet first. The backup's checksums are verified before anything "
        "is touched; a database or media directory that already holds a Network is refused "
        "unless --force is given.",
    )
    loading.add_argument("directory", metavar="DIR", type=Path, help="a directory made by backup")
    loading.add_argument(
        "--force",
        action="store_true",
        help="replace the database's and the media directory's current contents",
    )
    loading.set_defaults(handler=_reporting(restore))


def _reporting(action):
    def handler(settings: Settings, args: argparse.Namespace) -> int:
        try:
            action(settings, args.directory, force=args.force, report=_say)
        except BackupError as exc:
            print(f"copnet: error: {exc}", file=sys.stderr)
            return 1
        return 0

    return handler


def _say(line: str) -> None:
    print(line, flush=True)
