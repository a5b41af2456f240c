"""Log output: one line per record, as text or as JSON, and an access log for `copnet serve`.

Text lines escape control characters in the message, so a request path or a remote server's
error text cannot start a forged line; JSON lines escape them by construction. The access log
uses Apache's combined format in text (what log tools already parse) and named fields in JSON.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import time
from datetime import UTC, datetime

from aiohttp.abc import AbstractAccessLogger
from aiohttp.web import BaseRequest, StreamResponse

clock = time.time  # a name of our own: AccessLogger.log's `time` argument shadows the module

ACCESS_LOGGER = "copnet.access"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Record attribute carrying an access line's fields (for the JSON formatter).
ACCESS_FIELDS = "copnet_access"
_HANDLER_NAME = "copnet"
_ESCAPES = {ord("\\"): "\\\\", ord('"'): '\\"'}


@functools.lru_cache(maxsize=4)
def _local_time(second: int) -> str:
    # Formatting the time is most of a log line's cost; a busy server logs many per second.
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))


@functools.lru_cache(maxsize=4)
def _apache_time(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).astimezone().strftime("%d/%b/%Y:%H:%M:%S %z")


def one_line(text: str) -> str:
    """Control characters (newlines included) written as escapes such as `\\n`."""
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode() for char in text
    )


def escape(text: str) -> str:
    """A quoted access-log field: one line, with backslash and double quote escaped too."""
    return one_line(text.translate(_ESCAPES))


class TextFormatter(logging.Formatter):
    """`TIME LEVEL LOGGER: message` with the message on one line; tracebacks indented."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        return f"{_local_time(int(record.created))},{int(record.msecs):03d}"

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.message)
        return super().formatMessage(record)

    def formatException(self, ei) -> str:
        return "\n".join("    " + line for line in super().formatException(ei).splitlines())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and an access line's fields)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, ACCESS_FIELDS, None) or {})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str, stream=None) -> None:
    """Send every log record to stderr (or `stream`) as text or JSON lines."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for old in list(root.handlers):
        # Ours from an earlier call, or Python's default; others (a test's capture) stay.
        if old.get_name() == _HANDLER_NAME or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # aiohttp's own access logger would repeat ours.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


class AccessLogger(AbstractAccessLogger):
    """One line per answered request, in Apache's combined log format."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        remote = request.remote or "-"
        path = request.raw_path
        referer = request.headers.get("Referer", "-")
        agent = request.headers.get("User-Agent", "-")
        size = response.body_length
        version = f"{request.version.major}.{request.version.minor}"
        line = (
            f'{escape(remote)} - - [{_apache_time(int(clock()))}] "{escape(request.method)} '
            f'{escape(path)} HTTP/{version}" {response.status} {size} "{escape(referer)}" '
            f'"{escape(agent)}"'
        )
        fields = {
            "method": request.method,
            "path": path,
            "status": response.status,
            "duration": round(time, 6),
            "remote": remote,
            "bytes": size,
            "referer": referer if referer != "-" else None,
            "user_agent": agent if agent != "-" else None,
        }
        # Logger.info would look up the caller's frame for every request; it is always here.
        record = self.logger.makeRecord(
            self.logger.name,
            logging.INFO,
            __file__,
            0,
            line,
            None,
            None,
            "log",
            {ACCESS_FIELDS: fields},
        )
        self.logger.handle(record)

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)


def access_logger(enabled: bool) -> logging.Logger | None:
    """The logger `copnet serve` hands to aiohttp, or None to log no requests."""
    return logging.getLogger(ACCESS_LOGGER) if enabled else None
