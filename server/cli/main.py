"""The `copnet` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sqlite3
import sys
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

import asyncpg
from aiohttp import web
from alembic.util.exc import CommandError
from sqlalchemy.exc import DBAPIError

from models.actors import InvalidName, NameTaken
from models.database import create_engine
from models.migrate import NotMigrated, current_revision
from server import __version__
from server.cli import commands, loops
from server.cli.admin import add_admin_commands
from server.cli.backup import add_backup_commands
from server.cli.basecamp import add_basecamp_commands
from server.cli.federation import add_federation_commands
from server.cli.heap import freeze_startup_objects
from server.cli.mail import add_mail_commands
from server.cli.moderation import add_moderation_commands
from server.cli.post import add_community_set_command, add_post_commands
from server.cli.processes import MAX_PROCESSES, serve_processes
from server.ops.database import database_problem, schema_problem, settled
from server.ops.listen import CannotListen, listen_problem
from server.ops.logs import AccessLogger, access_logger, configure_logging
from server.ops.status import add_status_command
from server.settings import load_settings
from server.settings_validation import SettingsError

log = logging.getLogger("copnet")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="copnet",
        description="A federated ActivityPub server for a Network of Communities of Practice.",
        epilog="Settings come from the environment: COPNET_URL, DATABASE_URL, COPNET_HOST, "
        "COPNET_PORT, COPNET_ALLOW_PRIVATE_ADDRESSES, COPNET_CONFIG (a TOML file).",
    )
    parser.add_argument("--version", action="version", version=f"copnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = sub.add_parser("serve", help="serve the Network over HTTP")
    serve.add_argument("--host", help="address to listen on (default: COPNET_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default: COPNET_PORT or 8080)")
    serve.add_argument(
        "--processes",
        type=_process_count,
        default=1,
        help="serve from this many processes on one port (SO_REUSEPORT; default 1)",
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(handler=_serve)

    worker = sub.add_parser(
        "worker",
        help="process received activities and deliver outgoing ones, without serving HTTP "
        "(run several, on several machines, sharing one PostgreSQL)",
    )
    worker.set_defaults(handler=_worker)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(handler=_run(commands.migrate))

    demo = sub.add_parser("demo", help="seed a small demo Network (safe to run twice)")
    demo.set_defaults(handler=_run(commands.seed_demo))

    community = sub.add_parser("community", help="manage Communities of Practice")
    community_sub = community.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = community_sub.add_parser("create", help="start a new CoP")
    create.add_argument(
        "name", help="handle: lowercase letters, digits and _ (e.g. nursing_ethics)"
    )
    create.add_argument("--title", required=True, help="display name, e.g. 'Nursing Ethics'")
    create.add_argument("--summary", default="", help="what the CoP is about (markdown)")
    create.set_defaults(handler=_run(commands.create_community))
    listing = community_sub.add_parser("list", help="list every CoP")
    listing.set_defaults(handler=_run(commands.list_communities))
    add_community_set_command(community_sub)
    add_post_commands(sub)
    add_federation_commands(sub)
    add_admin_commands(sub)
    add_basecamp_commands(sub)
    add_status_command(sub)
    add_backup_commands(sub)
    add_moderation_commands(sub)
    add_mail_commands(sub)
    return parser


def _run(command: Callable[..., Coroutine[Any, Any, int]]) -> Callable[[Any, Any], int]:
    def handler(settings, args) -> int:
        return asyncio.run(settled(command(settings, args)))

    return handler


def _process_count(value: str) -> int:
    try:
        count = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of processes") from None
    if not 1 <= count <= MAX_PROCESSES:
        raise argparse.ArgumentTypeError(f"{count} is not between 1 and {MAX_PROCESSES}")
    return count


def _serve(settings, args) -> int:
    from server.app import create_app

    asyncio.run(settled(commands.check_database(settings)))
    host, port = args.host or settings.host, args.port or settings.port
    if args.processes > 1:
        return serve_processes(host, port, args.processes)
    app = create_app(settings)
    loops.run(settings, _serve_until_stopped(app, settings, host, port, reuse_port=args.reuse_port))
    return 0


async def _serve_until_stopped(
    app: web.Application, settings, host: str, port: int, *, reuse_port: bool = False
) -> None:
    runner = web.AppRunner(
        app,
        access_log_class=AccessLogger,
        access_log=access_logger(settings.access_log),
        handle_signals=False,
    )
    try:
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, reuse_port=reuse_port or None).start()
        except OSError as exc:
            raise CannotListen(
                listen_problem(exc, host, port, "COPNET_PORT", "COPNET_HOST")
            ) from exc
        # Only now: a server that says "serving" is listening.
        where = f"listening on {host}:{port}" + (f", process {os.getpid()}" if reuse_port else "")
        if settings.event_loop != "asyncio":
            where += f", {settings.event_loop} event loop"
        freeze_startup_objects()
        print(f"copnet {__version__} serving {settings.url} ({where})", flush=True)
        await _until_signalled()
    finally:
        await runner.cleanup()


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def _worker(settings, args) -> int:
    from server.cli.worker import run_worker_process

    asyncio.run(settled(commands.check_database(settings)))
    print(f"copnet {__version__} worker for {settings.url}", flush=True)
    loops.run(settings, run_worker_process(replace(settings, run_workers=True)))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `copnet` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(host=getattr(args, "host", None), port=getattr(args, "port", None))
    except SettingsError as exc:
        configure_logging("text")
        return _fail(str(exc), 2)
    configure_logging(settings.log_format)
    try:
        code = args.handler(settings, args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        return _reader_went_away()
    except CannotListen as exc:
        return _fail(str(exc))
    except (InvalidName, NameTaken) as exc:
        return _fail(str(exc))
    except NotMigrated as exc:
        return _fail(_schema_problem(settings, str(exc)))
    except CommandError as exc:
        return _fail(f"cannot migrate: {_schema_problem(settings, _first_line(exc))}")
    except (OSError, DBAPIError, sqlite3.Error, asyncpg.PostgresError) as exc:
        return _fail(database_problem(exc, settings.database_url))
    except KeyboardInterrupt:
        return 130


def _schema_problem(settings, fallback: str) -> str:
    """The schema's problem in words that say what to do (an unknown revision included)."""

    async def read() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            return schema_problem(await current_revision(engine))
        finally:
            await engine.dispose()

    try:
        return asyncio.run(settled(read())) or fallback
    except Exception:  # the database went away meanwhile: the first explanation stands
        return fallback


def _reader_went_away() -> int:
    # `copnet community list | head -1`: the reader has what it wanted; say nothing more.
    # Python would flush stdout again at exit and complain, so point it at /dev/null.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _fail(message: str, code: int = 1) -> int:
    print(f"copnet: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
