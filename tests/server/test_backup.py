"""`copnet backup` and `copnet restore` on SQLite and PostgreSQL: a real round trip and refusals."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from models.account_queries import create_account, member_by_name
from models.base import utcnow
from models.communities import Community, create_community, get_community
from models.database import create_engine, is_sqlite, session_factory
from models.document_queries import NewVersion, create_document
from models.migrate import head_revision, upgrade
from models.policy import DomainPolicy, SiteSetting
from models.policy_queries import set_domain
from server.app import create_app
from server.cli.main import main
from server.media.store import MediaStore
from server.ops.backup_database import contents_of, postgres_connection
from tests.data import samples
from tests.support.instances import settings_for

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://copnet.test"
AS2 = "application/activity+json"
PDF = samples.pdf("Falls audit: ward 7, March")
PDF_TEXT = "Falls audit ward seven bedside checklist"
# A few rows that must come back exactly as they were (private keys included).
SAMPLE_QUERIES = (
    "SELECT local_name, display_name, private_key_pem FROM actors ORDER BY id",
    "SELECT id, content_html FROM posts ORDER BY id",
    "SELECT document_id, sha256, size, filename, media_type FROM document_versions ORDER BY id",
)


@dataclass
class Place:
    """Where one Network lives: its database and its media directory."""

    database_url: str
    media: Path

    def environment(self) -> dict[str, str]:
        return {"DATABASE_URL": self.database_url, "COPNET_MEDIA_DIR": str(self.media)}


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def copnet_script(place: Place, *args: str) -> Outcome:
    """Run the installed `copnet` command in a child process."""
    script = Path(sys.executable).with_name("copnet")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "server.cli.main"]
    finished = subprocess.run(
        [*command, *args],
        env={**os.environ, "COPNET_URL": BASE, **place.environment()},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return Outcome(finished.returncode, finished.stdout, finished.stderr)


@pytest.fixture
def copnet_main(monkeypatch, capsys):
    """Run `copnet` through its main() in a thread (quicker than a process, same code)."""

    async def run(place: Place, *args: str) -> Outcome:
        monkeypatch.setenv("COPNET_URL", BASE)
        for name, value in place.environment().items():
            monkeypatch.setenv(name, value)
        code = await asyncio.to_thread(main, list(args))
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return run


def empty_database(url: str) -> str:
    """Make a database made by the fixtures hold nothing at all (no tables, no revision)."""
    if is_sqlite(url):
        Path(make_url(url).database).unlink()
        return url
    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")
    return url


async def add_pdf_document(place: Place) -> tuple[int, int]:
    """Upload a PDF into nursing_practice as tom, as the website does: (document, version) ids."""
    stored = await MediaStore(place.media).store_bytes(PDF, filename="falls-audit.pdf")
    engine = create_engine(place.database_url)
    try:
        async with session_factory(engine)() as session:
            community = await get_community(session, "nursing_practice")
            tom = await member_by_name(session, "tom")
            document, version = await create_document(
                session,
                community_id=community.actor_id,
                uploader_id=tom.account.actor_id,
                title="Falls audit",
                description="Ward 7, March",
                now=utcnow(),
                version=NewVersion(
                    sha256=stored.sha256,
                    size=stored.size,
                    media_type=stored.media_type,
                    filename="falls-audit.pdf",
                    text=PDF_TEXT,
                ),
            )
            await session.commit()
            return document.id, version.id
    finally:
        await engine.dispose()


async def seeded(place: Place, copnet_main) -> tuple[int, int]:
    """The demo Network plus a PDF upload; returns the PDF's document and version ids."""
    assert (await copnet_main(place, "migrate")).code == 0
    demo = await copnet_main(place, "demo")
    assert demo.code == 0, demo.err
    return await add_pdf_document(place)


async def seeded_quickly(place: Place) -> None:
    """One CoP, one member and a PDF: content for the refusals, without the demo's password
    hashing."""
    engine = create_engine(place.database_url)
    try:
        async with session_factory(engine)() as session:
            await create_community(
                session, "nursing_practice", title="Nursing", summary_source="", summary_html=""
            )
            await create_account(session, "tom", "not-a-real-hash")
            await session.commit()
    finally:
        await engine.dispose()
    await add_pdf_document(place)


async def snapshot(database_url: str) -> dict:
    """Row counts of every table and the sample rows."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            counts = {}
            for name in sorted(names):
                quoted = connection.dialect.identifier_preparer.quote(name)
                counts[name] = (
                    await connection.scalar(text(f"SELECT count(*) FROM {quoted}"))
                ) or 0
            samples_rows = [
                [tuple(row) for row in await connection.execute(text(query))]
                for query in SAMPLE_QUERIES
            ]
    finally:
        await engine.dispose()
    return {"counts": counts, "rows": samples_rows}


def media_files(media: Path) -> dict[str, bytes]:
    return {
        path.relative_to(media).as_posix(): path.read_bytes()
        for path in media.rglob("*")
        if path.is_file()
    }


async def community_names(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            found = await session.scalars(select(Community).order_by(Community.actor_id))
            return [community.actor.local_name for community in found]
    finally:
        await engine.dispose()


async def test_round_trip_restores_an_identical_network(
    database_url, database_factory, tmp_path, aiohttp_client, copnet_main
):
    source = Place(database_url, tmp_path / "source-media")
    document_id, version_id = await seeded(source, copnet_main)
    backup_dir = tmp_path / "backup"

    saved = copnet_script(source, "backup", str(backup_dir))

    assert saved.code == 0, saved.err
    assert "backup complete" in saved.out and "media: 3 files" in saved.out
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    kind = "sqlite" if is_sqlite(database_url) else "postgresql"
    assert manifest["database"] == kind
    assert manifest["alembic_revision"] == head_revision()
    media_entries = [f for f in manifest["files"] if f["path"].startswith("media/")]
    # Media files are named by their digest: the manifest's sha256 must agree.
    assert sorted(f["path"].rsplit("/", 1)[1] for f in media_entries) == sorted(
        f["sha256"] for f in media_entries
    )

    target = Place(empty_database(database_factory()), tmp_path / "restored-media")
    restored = copnet_script(target, "restore", str(backup_dir))

    assert restored.code == 0, restored.err
    assert "migrations are current" in restored.out
    before, after = await snapshot(source.database_url), await snapshot(target.database_url)
    assert after["counts"] == before["counts"]
    assert after["rows"] == before["rows"]
    assert before["counts"]["posts"] > 10 and before["counts"]["document_versions"] == 3
    assert media_files(target.media) == media_files(source.media)

    settings = settings_for(target.database_url, media_dir=str(target.media))
    client = await aiohttp_client(create_app(settings))
    group = await client.get("/c/nursing_practice", headers={"Accept": AS2})
    assert group.status == 200
    assert (await group.json())["id"] == f"{BASE}/c/nursing_practice"
    page = await client.get(f"/d/{document_id}")
    assert page.status == 200 and "Falls audit" in await page.text()
    download = await client.get(f"/d/{document_id}/v/{version_id}")
    assert download.status == 200 and await download.read() == PDF
    found = await client.get("/search", params={"q": "bedside checklist"})
    assert found.status == 200 and "Falls audit" in await found.text()


async def test_restore_refuses_a_network_unless_forced(
    database_url, database_factory, tmp_path, copnet_main
):
    source = Place(database_url, tmp_path / "source-media")
    await seeded_quickly(source)
    backup_dir = tmp_path / "backup"
    assert (await copnet_main(source, "backup", str(backup_dir))).code == 0

    # A target that already holds a Network of its own.
    target = Place(database_factory(), tmp_path / "target-media")
    engine = create_engine(target.database_url)
    async with session_factory(engine)() as session:
        await create_community(
            session, "stray_cop", title="Stray", summary_source="", summary_html=""
        )
        await session.commit()
    await engine.dispose()
    stray_file = target.media / "ab" / "cd" / "stray"
    stray_file.parent.mkdir(parents=True)
    stray_file.write_bytes(b"not from the backup")

    refused = await copnet_main(target, "restore", str(backup_dir))

    assert refused.code == 1
    assert refused.err.count("\n") == 1 and "--force" in refused.err
    assert "is at revision" in refused.err
    assert await community_names(target.database_url) == ["stray_cop"]

    # An empty database but a media directory with files in it: refused too.
    empty = Place(empty_database(database_factory()), target.media)
    refused_media = await copnet_main(empty, "restore", str(backup_dir))
    assert refused_media.code == 1
    assert "media directory" in refused_media.err and "--force" in refused_media.err
    assert await contents_of(empty.database_url) is None

    forced = await copnet_main(target, "restore", "--force", str(backup_dir))

    assert forced.code == 0, forced.err
    assert "stray_cop" not in await community_names(target.database_url)
    assert (await snapshot(target.database_url)) == (await snapshot(source.database_url))
    assert media_files(target.media) == media_files(source.media)


async def test_a_damaged_backup_is_refused_before_anything_changes(
    database_url, database_factory, tmp_path, copnet_main
):
    source = Place(database_url, tmp_path / "source-media")
    await seeded_quickly(source)
    backup_dir = tmp_path / "backup"
    assert (await copnet_main(source, "backup", str(backup_dir))).code == 0
    target = Place(empty_database(database_factory()), tmp_path / "target-media")

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    damaged = next(f["path"] for f in manifest["files"] if f["path"].startswith("media/"))
    original = (backup_dir / damaged).read_bytes()
    (backup_dir / damaged).write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    bad_checksum = await copnet_main(target, "restore", str(backup_dir))
    assert bad_checksum.code == 1
    assert bad_checksum.err == f"copnet: error: checksum mismatch for {damaged}: " + (
        "it is not the file that was backed up (the backup is damaged)\n"
    )
    assert await contents_of(target.database_url) is None
    assert not target.media.exists()

    (backup_dir / "manifest.json").write_text('{"format": "copnet-backup/1", "files": [')
    garbled = await copnet_main(target, "restore", str(backup_dir))
    assert garbled.code == 1 and "manifest.json is garbled" in garbled.err

    (backup_dir / "manifest.json").unlink()
    missing = await copnet_main(target, "restore", str(backup_dir))
    assert missing.code == 1 and "has no manifest.json" in missing.err
    assert await contents_of(target.database_url) is None


async def test_backup_into_a_used_directory_needs_force(database_url, tmp_path, copnet_main):
    source = Place(database_url, tmp_path / "media")
    await seeded_quickly(source)
    backup_dir = tmp_path / "backup"
    stale = backup_dir / "media" / "00" / "00" / "stale"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"from an older backup")

    refused = await copnet_main(source, "backup", str(backup_dir))
    assert refused.code == 1 and "not empty" in refused.err and "--force" in refused.err
    assert not (backup_dir / "manifest.json").exists()

    forced = await copnet_main(source, "backup", "--force", str(backup_dir))
    assert forced.code == 0, forced.err
    assert not stale.exists()
    listed = {f["path"] for f in json.loads((backup_dir / "manifest.json").read_text())["files"]}
    on_disk = {p.relative_to(backup_dir).as_posix() for p in backup_dir.rglob("*") if p.is_file()}
    assert on_disk == listed | {"manifest.json"}


async def test_restoring_an_older_backup_says_to_migrate(
    database_url, database_factory, tmp_path, copnet_main
):
    older = Place(empty_database(database_factory()), tmp_path / "old-media")
    engine = create_engine(older.database_url)
    await upgrade(engine, "0004")
    await engine.dispose()
    backup_dir = tmp_path / "backup"
    assert (await copnet_main(older, "backup", str(backup_dir))).code == 0

    target = Place(empty_database(database_factory()), tmp_path / "target-media")
    restored = await copnet_main(target, "restore", str(backup_dir))

    assert restored.code == 0, restored.err
    assert "at revision 0004" in restored.out and "run `copnet migrate`" in restored.out
    assert (await copnet_main(target, "migrate")).code == 0
    assert (await snapshot(target.database_url))["counts"]["alembic_version"] == 1


def test_backup_without_pg_dump_names_the_debian_package(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://copnet:secret@db.invalid/copnet")
    monkeypatch.setenv("PATH", str(tmp_path / "no-binaries"))

    assert main(["backup", str(tmp_path / "backup")]) == 1

    error = capsys.readouterr().err
    assert error.startswith("copnet: error: pg_dump is not installed")
    assert "postgresql-client" in error and error.count("\n") == 1
    assert not (tmp_path / "backup").exists()


async def test_backup_while_the_network_is_written_to_is_consistent(
    database_url, database_factory, tmp_path, copnet_main
):
    source = Place(database_url, tmp_path / "source-media")
    await seeded_quickly(source)
    engine = create_engine(source.database_url)
    stop, started = asyncio.Event(), asyncio.Event()
    written = 0

    async def keep_writing() -> None:
        # Each transaction adds a domain entry and bumps a counter: a consistent copy has
        # exactly as many entries as its counter says.
        nonlocal written
        while not stop.is_set():
            async with session_factory(engine)() as session:
                await set_domain(session, f"busy-{written}.example", "allow")
                await session.merge(SiteSetting(key="busy_count", value=str(written + 1)))
                await session.commit()
            written += 1
            if written == 3:
                started.set()

    writer = asyncio.create_task(keep_writing())
    try:
        await started.wait()
        written_before = written
        # The writer goes on while the backup runs in its thread (usually tens of commits;
        # not asserted, the machine's load decides).
        saved = await copnet_main(source, "backup", str(tmp_path / "backup"))
    finally:
        stop.set()
        await writer
        await engine.dispose()
    assert saved.code == 0, saved.err

    target = Place(empty_database(database_factory()), tmp_path / "target-media")
    assert (await copnet_main(target, "restore", str(tmp_path / "backup"))).code == 0
    engine = create_engine(target.database_url)
    try:
        async with session_factory(engine)() as session:
            domains = (await session.scalars(select(DomainPolicy.domain))).all()
            counter = await session.get(SiteSetting, "busy_count")
    finally:
        await engine.dispose()
    assert counter is not None and len(domains) == int(counter.value) >= written_before


def test_the_database_password_never_reaches_the_command_line():
    connection = postgres_connection(
        "postgresql+asyncpg://copnet:s%40cret:x@db.example:5433/network?ssl=require"
    )

    assert connection.arguments == (
        "--no-password",
        "--dbname=network",
        "--host=db.example",
        "--port=5433",
        "--username=copnet",
    )
    assert connection.environment["PGPASSWORD"] == "s@cret:x"
    assert connection.environment["PGSSLMODE"] == "require"
    assert not any("cret" in argument for argument in connection.arguments)


async def test_backup_of_a_database_without_a_network_is_refused(
    database_factory, tmp_path, copnet_main
):
    empty = Place(empty_database(database_factory()), tmp_path / "media")

    refused = await copnet_main(empty, "backup", str(tmp_path / "backup"))

    assert refused.code == 1
    assert refused.err.startswith("copnet: error: the ") and "check DATABASE_URL" in refused.err
    assert not (tmp_path / "backup").exists()
