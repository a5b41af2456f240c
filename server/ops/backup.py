"""`copnet backup DIR` and `copnet restore DIR`: the database and the media files, with a manifest.

A backup directory holds `database.dump` (PostgreSQL, pg_dump's custom format) or
`database.sqlite3`, the media files under `media/` as the media directory lays them out, and
`manifest.json` listing every file with its size and sha256.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from models.migrate import head_revision
from server import __version__
from server.media.store import human_size, media_root
from server.ops.backup_database import (
    contents_of,
    copy_sqlite,
    database_file,
    database_kind,
    describe,
    dump_postgres,
    is_known_revision,
    make_self_contained,
    require_client,
    restore_postgres,
    revision_of,
    sqlite_path,
    sqlite_revision,
)
from server.ops.backup_manifest import (
    MANIFEST_NAME,
    BackupError,
    FileEntry,
    Manifest,
    copy_with_digest,
    file_entry,
    read_manifest,
    verify_files,
)
from server.settings import Settings

MEDIA_FOLDER = "media"
# Half-written uploads: never part of a backup.
SKIPPED_MEDIA = ".incoming"

Report = Callable[[str], None]

__all__ = ["BackupError", "Manifest", "RestoreResult", "backup", "restore"]


def backup(
    settings: Settings, directory: Path, *, force: bool = False, report: Report = print
) -> Manifest:
    """Write a complete backup of the running Network into `directory`; returns its Manifest."""
    media = media_root(settings)
    kind = database_kind(settings.database_url)
    if kind == "postgresql":
        require_client("pg_dump")
    revision = _live_revision(settings.database_url)
    _prepare_directory(directory, media, force=force)
    database_name = database_file(kind)
    report(f"backing up {describe(settings.database_url)} into {directory / database_name}")
    revision = _save_database(settings.database_url, directory / database_name, revision)
    database_entry = file_entry(directory, directory / database_name)
    report(f"  database: {human_size(database_entry.size)} at revision {revision}")
    # The database goes first: media files are named by their content and never change, so
    # copying them afterwards finds every file the saved rows refer to (an upload finishing
    # meanwhile only adds a file that no saved row needs).
    report(f"backing up the media files in {media}")
    media_entries = _save_media(media, directory)
    report(f"  media: {len(media_entries)} files, {human_size(sum(e.size for e in media_entries))}")
    manifest = Manifest(
        copnet_version=__version__,
        database=kind,
        alembic_revision=revision,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        files=(database_entry, *media_entries),
    )
    # Written last: a backup cut short has no manifest, and restore refuses it.
    with _filesystem("write the manifest"):
        manifest.write(directory)
    report(
        f"backup complete: {directory} ({kind} at revision {revision}, "
        f"{len(manifest.files)} files, {human_size(manifest.total_size)})"
    )
    return manifest


@dataclass(frozen=True)
class RestoreResult:
    """What a restore put in place and whether the schema still needs `copnet migrate`."""

    manifest: Manifest
    revision: str | None
    needs_migrate: bool


def restore(
    settings: Settings, directory: Path, *, force: bool = False, report: Report = print
) -> RestoreResult:
    """Restore the backup in `directory` into the configured database and media directory."""
    manifest = read_manifest(directory)
    kind = database_kind(settings.database_url)
    if manifest.database != kind:
        raise BackupError(
            f"{directory} holds a {manifest.database} backup but DATABASE_URL names {kind}: "
            f"restore it into a {manifest.database} database"
        )
    if database_file(kind) not in {entry.path for entry in manifest.files}:
        raise BackupError(f"the manifest in {directory} lists no {database_file(kind)}")
    if kind == "postgresql":
        require_client("pg_restore")
    report(
        f"checking {len(manifest.files)} files of the backup made {manifest.created} "
        f"by copnet {manifest.copnet_version} ({human_size(manifest.total_size)})"
    )
    verify_files(directory, manifest)
    media = media_root(settings)
    _require_empty_target(settings, media, force=force)
    report(f"restoring {describe(settings.database_url)}")
    _load_database(settings.database_url, directory / database_file(kind))
    report(f"restoring the media files into {media}")
    count = _load_media(directory, manifest, media)
    report(f"  media: {count} files")
    revision = asyncio.run(revision_of(settings.database_url))
    needs_migrate = revision != head_revision()
    report(f"restore complete: {kind} at revision {revision}, {count} media files")
    if revision is not None and not is_known_revision(revision):
        report(
            f"the backup's schema is at revision {revision}, newer than this copnet knows: "
            "upgrade copnet to the version that made the backup "
            f"({manifest.copnet_version}) before serving"
        )
    elif needs_migrate:
        report(
            f"the backup's schema is at revision {revision}, this copnet needs "
            f"{head_revision()}: run `copnet migrate` before `copnet serve`"
        )
    else:
        report("migrations are current: the Network is ready to serve")
    return RestoreResult(manifest=manifest, revision=revision, needs_migrate=needs_migrate)


# ---- backup steps -----------------------------------------------------------------------------


def _prepare_directory(directory: Path, media: Path, *, force: bool) -> None:
    if _is_within(directory, media):
        raise BackupError(f"{directory} is inside the media directory {media}: choose another")
    with _filesystem(f"create {directory}"):
        # The backup holds password hashes and private keys: for the owner's eyes only.
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not any(directory.iterdir()):
            return
        if not force:
            raise BackupError(
                f"{directory} is not empty: choose an empty directory, or pass --force to "
                "replace the backup in it"
            )
        # Only what a backup writes is replaced; the manifest goes first so that a run cut
        # short never leaves an old manifest describing new files.
        (directory / MANIFEST_NAME).unlink(missing_ok=True)
        for kind in ("postgresql", "sqlite"):
            (directory / database_file(kind)).unlink(missing_ok=True)
        shutil.rmtree(directory / MEDIA_FOLDER, ignore_errors=True)


def _live_revision(database_url: str) -> str:
    """The revision of the database to back up; refuses one that holds no Network."""
    if database_kind(database_url) == "sqlite" and not sqlite_path(database_url).is_file():
        raise BackupError(f"{describe(database_url)} does not exist: check DATABASE_URL")
    revision = asyncio.run(revision_of(database_url))
    if revision is None:
        raise BackupError(f"{describe(database_url)} has no copnet tables: check DATABASE_URL")
    return revision


def _save_database(database_url: str, target: Path, revision: str) -> str:
    """Copy the database into `target`; returns the revision the copy is at."""
    try:
        if database_kind(database_url) == "postgresql":
            dump_postgres(database_url, target)
            return revision
        with _filesystem(f"write {target}"):
            copy_sqlite(sqlite_path(database_url), target)
            make_self_contained(target)
        return sqlite_revision(target) or revision
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _save_media(media: Path, directory: Path) -> list[FileEntry]:
    entries = []
    for source in _media_files(media):
        relative = source.relative_to(media).as_posix()
        target = directory / MEDIA_FOLDER / relative
        with _filesystem(f"copy {source}"):
            digest, size = copy_with_digest(source, target)
        entries.append(FileEntry(path=f"{MEDIA_FOLDER}/{relative}", size=size, sha256=digest))
    return entries


def _media_files(media: Path) -> Iterator[Path]:
    if not media.is_dir():
        return
    for path in sorted(media.rglob("*")):
        relative = path.relative_to(media)
        if relative.parts[0] != SKIPPED_MEDIA and path.is_file():
            yield path


# ---- restore steps ----------------------------------------------------------------------------


def _require_empty_target(settings: Settings, media: Path, *, force: bool) -> None:
    if force:
        return
    contents = asyncio.run(contents_of(settings.database_url))
    if contents is not None:
        raise BackupError(
            f"{describe(settings.database_url)} {contents}: restore into an empty database, "
            "or pass --force to replace what it holds"
        )
    if next(_media_files(media), None) is not None:
        raise BackupError(
            f"the media directory {media} is not empty: restore into an empty one, or pass "
            "--force to replace its files"
        )


def _load_database(database_url: str, source: Path) -> None:
    if database_kind(database_url) == "postgresql":
        restore_postgres(database_url, source)
        return
    target = sqlite_path(database_url)
    with _filesystem(f"write {target}"):
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_sqlite(source, target, source_read_only=True)


def _load_media(directory: Path, manifest: Manifest, media: Path) -> int:
    prefix = f"{MEDIA_FOLDER}/"
    entries = [entry for entry in manifest.files if entry.path.startswith(prefix)]
    with _filesystem(f"replace the files in {media}"):
        if media.is_dir():
            for child in media.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        for entry in entries:
            target = media / entry.path.removeprefix(prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(directory / entry.path, target)
    return len(entries)


# ---- helpers ----------------------------------------------------------------------------------


def _is_within(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


@contextmanager
def _filesystem(action: str) -> Iterator[None]:
    """Turn a file system error into a one-line BackupError saying what could not be done."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename else ""
        raise BackupError(f"cannot {action}: {reason}{where}") from None
