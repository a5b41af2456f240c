"""`copnet` start-up failures, each run as the real command: one line saying what to fix."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from models.communities import create_community
from models.database import create_engine, session_factory
from models.migrate import upgrade

COPNET = str(Path(sys.executable).with_name("copnet"))
NOBODY = 65534


def copnet_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `copnet` subprocess: only what it needs, workers off."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database_url,
        "COPNET_RUN_WORKERS": "false",
        "COPNET_URL": "http://copnet.test",
    }
    env.update(extra)
    return env


def run_copnet(
    *args: str, env: dict[str, str], unprivileged: bool = False
) -> subprocess.CompletedProcess:
    command = [COPNET, *args]
    if unprivileged and os.geteuid() == 0:
        # As root, permissions would not apply: run as nobody, as an admin's service user.
        require_reachable_by_others(Path(COPNET))
        command = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def require_reachable_by_others(path: Path) -> None:
    """Another user can only run the checkout's copnet if every folder above it lets them in."""
    for folder in path.absolute().parents:
        if not folder.stat().st_mode & stat.S_IXOTH:
            pytest.fail(
                f"{folder} is closed to other users, so the permission tests cannot run copnet "
                f"as nobody: run them from a checkout others can reach (chmod o+x {folder})",
                pytrace=False,
            )


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The single `copnet: error:` line on stderr (nothing else printed there)."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("copnet: error: "), lines[0]
    return lines[0]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def open_dir():
    """A directory that an unprivileged user can reach (pytest's tmp_path is private)."""
    path = Path(tempfile.mkdtemp(prefix="copnet-startup-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def migrated_sqlite(path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def add_cops(database_url: str, *names: str) -> None:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            for name in names:
                await create_community(session, name, title=name.title())
            await session.commit()
    finally:
        await engine.dispose()


async def test_port_in_use_is_named_and_nothing_claims_to_serve(database_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await asyncio.to_thread(
            run_copnet, "serve", "--port", str(port), env=copnet_env(database_url)
        )
    assert result.returncode == 1
    assert one_error_line(result) == (
        f"copnet: error: port {port} on 127.0.0.1 is already in use: "
        "stop the other server or set COPNET_PORT"
    )
    assert "serving" not in result.stdout


async def test_a_privileged_port_is_permission_denied(open_dir):
    database = open_dir / "copnet.sqlite3"
    url = await migrated_sqlite(database)
    if os.geteuid() == 0:
        for path in (open_dir, database):
            os.chown(path, NOBODY, NOBODY)
    result = await asyncio.to_thread(
        run_copnet, "serve", "--port", "80", env=copnet_env(url), unprivileged=True
    )
    assert result.returncode == 1
    line = one_error_line(result)
    assert line.startswith("copnet: error: permission denied to listen on port 80 on 127.0.0.1")
    assert line.endswith("set COPNET_PORT to a higher port")
    assert "database" not in line


async def test_an_unwritable_sqlite_directory_is_named(open_dir):
    url = f"sqlite:///{open_dir}/copnet.sqlite3"  # open_dir belongs to root, not to nobody
    if os.geteuid() != 0:
        open_dir.chmod(0o555)
    result = await asyncio.to_thread(run_copnet, "migrate", env=copnet_env(url), unprivileged=True)
    assert result.returncode == 1
    line = one_error_line(result)
    assert f"SQLite database {open_dir}/copnet.sqlite3" in line
    assert "writable" in line and line.endswith("fix DATABASE_URL")


async def test_a_missing_sqlite_parent_is_named():
    url = "sqlite:////proc/no-such-dir/copnet.sqlite3"  # /proc takes no new directories
    result = await asyncio.to_thread(run_copnet, "serve", env=copnet_env(url))
    assert result.returncode == 1
    assert one_error_line(result) == (
        "copnet: error: cannot create /proc/no-such-dir for the SQLite database "
        "/proc/no-such-dir/copnet.sqlite3 (No such file or directory): fix DATABASE_URL"
    )


async def test_an_unreachable_postgresql_is_named():
    port = closed_port()
    url = f"postgresql://postgres@127.0.0.1:{port}/copnet"
    for command in ("serve", "worker", "status"):
        result = await asyncio.to_thread(run_copnet, command, env=copnet_env(url))
        assert result.returncode == 1
        assert one_error_line(result) == (
            f"copnet: error: cannot reach PostgreSQL at 127.0.0.1:{port} (connection refused): "
            "start PostgreSQL or fix DATABASE_URL"
        )
        assert "serving" not in result.stdout


async def test_a_missing_postgresql_database_is_named(database_url):
    if not database_url.startswith("postgresql"):
        return  # the SQLite leg is covered by the unwritable and missing-directory tests
    url = database_url.rsplit("/", 1)[0] + "/copnet_no_such_database"
    result = await asyncio.to_thread(run_copnet, "serve", env=copnet_env(url))
    assert result.returncode == 1
    assert "has no database 'copnet_no_such_database'" in one_error_line(result)
    assert "createdb copnet_no_such_database" in result.stderr


async def test_an_unmigrated_database_says_to_migrate(database_factory, database_url):
    url = database_factory()
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DELETE FROM alembic_version"))
    await engine.dispose()
    result = await asyncio.to_thread(run_copnet, "serve", env=copnet_env(url))
    assert result.returncode == 1
    assert one_error_line(result) == (
        "copnet: error: the database has no copnet tables: run `copnet migrate`"
    )


async def test_a_revision_this_copnet_does_not_know_is_named(database_url):
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    await engine.dispose()
    serve = await asyncio.to_thread(run_copnet, "serve", env=copnet_env(database_url))
    assert serve.returncode == 1
    assert "revision f00d, which this copnet does not know" in one_error_line(serve)
    migrate = await asyncio.to_thread(run_copnet, "migrate", env=copnet_env(database_url))
    assert migrate.returncode == 1
    line = one_error_line(migrate)
    assert line.startswith("copnet: error: cannot migrate: the database is at revision f00d")


async def test_a_closed_pipe_is_not_an_error(database_url):
    env = copnet_env(database_url)
    await add_cops(database_url, "alpha", "beta")
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -1` that has already exited
    try:
        result = await asyncio.to_thread(
            subprocess.run,
            [COPNET, "community", "list"],
            env=env,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0
    assert result.stderr == ""


async def test_head_of_a_listing_prints_no_error(database_url):
    env = copnet_env(database_url)
    await add_cops(database_url, *(f"cop_{index}" for index in range(3)))
    result = await asyncio.to_thread(
        subprocess.run,
        ["bash", "-o", "pipefail", "-c", f"{COPNET} community list | head -1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1 and result.stderr == ""


def test_an_unknown_postgresql_user_is_named(database_url, monkeypatch, capsys):
    from sqlalchemy.engine import make_url

    from server.cli.main import main

    if not database_url.startswith("postgresql"):
        return  # SQLite has no users
    url = make_url(database_url).set(username="no_such_role_x")
    monkeypatch.setenv("DATABASE_URL", url.render_as_string(hide_password=False))
    assert main(["status"]) == 1
    line = capsys.readouterr().err.strip()
    where = f"{url.host}:{url.port or 5432}"
    assert line.startswith(f"copnet: error: PostgreSQL at {where} refused user 'no_such_role_x'")
    assert line.endswith("fix DATABASE_URL") and "\n" not in line
