"""The `copnet` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError, OperationalError

from models.actors import InvalidName, NameTaken
from models.migrate import NotMigrated
from server import __version__, commands
from server.cli_admin import add_admin_commands
from server.cli_backup import add_backup_commands
from server.cli_basecamp import add_basecamp_commands
from server.cli_federation import add_federation_commands
from server.settings import SettingsError, load_settings

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
    add_federation_commands(sub)
    add_admin_commands(sub)
    add_basecamp_commands(sub)
    add_backup_commands(sub)
    return parser


def _run(command: Callable[..., Coroutine[Any, Any, int]]) -> Callable[[Any, Any], int]:
    def handler(settings, args) -> int:
        return asyncio.run(command(settings, args))

    return handler


def _serve(settings, args) -> int:
    from server.app import create_app

    asyncio.run(commands.check_database(settings))
    app = create_app(settings)
    host, port = args.host or settings.host, args.port or settings.port
    print(f"copnet {__version__} serving {settings.url} (listening on {host}:{port})", flush=True)
    web.run_app(app, host=host, port=port, print=None, access_log=None)
    return 0


def _worker(settings, args) -> int:
    from server.worker_process import run_worker_process

    asyncio.run(commands.check_database(settings))
    print(f"copnet {__version__} worker for {settings.url}", flush=True)
    asyncio.run(run_worker_process(replace(settings, run_workers=True)))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `copnet` console script."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(host=getattr(args, "host", None), port=getattr(args, "port", None))
        return args.handler(settings, args)
    except SettingsError as exc:
        return _fail(str(exc), 2)
    except (InvalidName, NameTaken, NotMigrated) as exc:
        return _fail(str(exc))
    except (OSError, OperationalError, DBAPIError) as exc:
        return _fail(f"cannot use the database: {_first_line(exc)}")
    except KeyboardInterrupt:
        return 130


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _fail(message: str, code: int = 1) -> int:
    print(f"copnet: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
