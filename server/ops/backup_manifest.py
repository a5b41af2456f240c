"""The manifest of a copnet backup: what was saved, from which copnet, with each file's digest."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath

MANIFEST_NAME = "manifest.json"
FORMAT = "copnet-backup/1"
DATABASE_KINDS = ("postgresql", "sqlite")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore cannot go on; the message is one line that says what to do."""


@dataclass(frozen=True)
class FileEntry:
    """One file of a backup, by its path inside the backup directory."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and where it came from."""

    copnet_version: str
    database: str
    alembic_revision: str
    created: str
    files: tuple[FileEntry, ...]

    @property
    def total_size(self) -> int:
        """Bytes in every file of the backup."""
        return sum(entry.size for entry in self.files)

    def write(self, directory: Path) -> None:
        """Write manifest.json into the backup directory."""
        document = {"format": FORMAT, **asdict(self), "files": [asdict(f) for f in self.files]}
        text = json.dumps(document, indent=2) + "\n"
        (directory / MANIFEST_NAME).write_text(text, encoding="utf-8")


def read_manifest(directory: Path) -> Manifest:
    """The manifest of the backup in `directory`; BackupError if it is missing or garbled."""
    path = directory / MANIFEST_NAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(
            f"{directory} has no {MANIFEST_NAME}: it is not a copnet backup"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackupError(f"{path} is garbled ({exc}): the backup is damaged") from None
    try:
        return _parse(document)
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(f"{path} is not a copnet backup manifest ({exc})") from None


def _parse(document: object) -> Manifest:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"format is not {FORMAT!r}")
    database = document["database"]
    if database not in DATABASE_KINDS:
        raise ValueError(f"unknown database kind {database!r}")
    files = tuple(_file_entry(item) for item in document["files"])
    return Manifest(
        copnet_version=_text(document["copnet_version"]),
        database=database,
        alembic_revision=_text(document["alembic_revision"]),
        created=_text(document["created"]),
        files=files,
    )


def _file_entry(item: object) -> FileEntry:
    if not isinstance(item, dict):
        raise ValueError("a file entry is not an object")
    path = _text(item["path"])
    # The manifest decides where restore reads from: never outside the backup directory.
    parts = PurePosixPath(path).parts
    if not parts or path.startswith("/") or ".." in parts or "\\" in path:
        raise ValueError(f"unsafe file path {path!r}")
    size, digest = item["size"], _text(item["sha256"])
    if not isinstance(size, int) or size < 0:
        raise ValueError(f"bad size for {path}")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"bad sha256 for {path}")
    return FileEntry(path=path, size=size, sha256=digest)


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def file_entry(directory: Path, path: Path) -> FileEntry:
    """Size and digest of a file already inside the backup directory."""
    digest, size = _digest(path)
    return FileEntry(path=path.relative_to(directory).as_posix(), size=size, sha256=digest)


def copy_with_digest(source: Path, target: Path) -> tuple[str, int]:
    """Copy a file, returning the sha256 and size of the bytes copied."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as reader, target.open("wb") as writer:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def verify_files(directory: Path, manifest: Manifest) -> None:
    """Check every file against its size and digest; BackupError naming the first bad one."""
    for entry in manifest.files:
        path = directory / entry.path
        if not path.is_file():
            raise BackupError(f"{entry.path} is missing from {directory}: the backup is incomplete")
        digest, size = _digest(path)
        if size != entry.size or digest != entry.sha256:
            raise BackupError(
                f"checksum mismatch for {entry.path}: it is not the file that was backed up "
                "(the backup is damaged)"
            )


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as reader:
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
