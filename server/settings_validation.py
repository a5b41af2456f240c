"""Checking raw configuration values (strings from the environment, or TOML values) and turning
them into what `Settings` holds; a wrong value raises SettingsError naming the setting."""

from __future__ import annotations

import importlib.util
import ipaddress
from pathlib import Path

from yarl import URL

from server.mail.address import valid_sender
from server.mail.smtp_url import parse_smtp_url

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(ValueError):
    """A configuration value is wrong; the message names the setting."""

    def __init__(self, setting: str, problem: str):
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


FIRST_KNOCKS = ("cavage", "rfc9421")
LOG_FORMATS = ("text", "json")
EVENT_LOOPS = ("asyncio", "uvloop")


def validated_values(raw: dict[str, object]) -> dict[str, object]:
    """The typed value of each setting present in `raw`, by `Settings` field name."""
    values: dict[str, object] = {}
    if "url" in raw:
        values["url"] = _public_url(str(raw["url"]))
    if "database_url" in raw:
        values["database_url"] = _database_url(str(raw["database_url"]))
    if "host" in raw:
        host = str(raw["host"]).strip()
        if not host:
            raise SettingsError("COPNET_HOST", "must not be empty")
        values["host"] = host
    if "port" in raw:
        values["port"] = _port(raw["port"])
    for name, variable in (
        ("allow_private_addresses", "COPNET_ALLOW_PRIVATE_ADDRESSES"),
        ("run_workers", "COPNET_RUN_WORKERS"),
        ("access_log", "COPNET_ACCESS_LOG"),
    ):
        if name in raw:
            values[name] = _boolean(variable, raw[name])
    if "instance_name" in raw:
        name = str(raw["instance_name"]).strip()
        if not name:
            raise SettingsError("COPNET_INSTANCE_NAME", "must not be empty")
        values["instance_name"] = name
    if "media_dir" in raw:
        media_dir = str(raw["media_dir"]).strip()
        if not media_dir:
            raise SettingsError("COPNET_MEDIA_DIR", "must not be empty")
        values["media_dir"] = media_dir
    if "max_upload_mb" in raw:
        values["max_upload_bytes"] = _megabytes("COPNET_MAX_UPLOAD_MB", raw["max_upload_mb"])
    if "trusted_proxies" in raw:
        values["trusted_proxies"] = _networks("COPNET_TRUSTED_PROXIES", raw["trusted_proxies"])
    values.update(_operations(raw))
    values.update(_mail(raw))
    if "host_map" in raw:
        host_map = raw["host_map"]
        if not isinstance(host_map, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in host_map.items()
        ):
            raise SettingsError("COPNET_CONFIG", "host_map must map host names to IP addresses")
        values["host_map"] = dict(host_map)
    return values


def _operations(raw: dict[str, object]) -> dict[str, object]:
    values: dict[str, object] = {}
    if "log_format" in raw:
        log_format = str(raw["log_format"]).strip().lower()
        if log_format not in LOG_FORMATS:
            raise SettingsError("COPNET_LOG_FORMAT", f"{raw['log_format']!r} is not text or json")
        values["log_format"] = log_format
    if "metrics_token" in raw:
        values["metrics_token"] = str(raw["metrics_token"]).strip()
    if "metrics_port" in raw and str(raw["metrics_port"]).strip():
        values["metrics_port"] = _port(raw["metrics_port"], "COPNET_METRICS_PORT")
    if "metrics_host" in raw:
        host = str(raw["metrics_host"]).strip()
        if not host:
            raise SettingsError("COPNET_METRICS_HOST", "must not be empty")
        values["metrics_host"] = host
    if "signature_first_knock" in raw:
        knock = str(raw["signature_first_knock"]).strip().lower()
        if knock not in FIRST_KNOCKS:
            raise SettingsError(
                "COPNET_SIGNATURE_FIRST_KNOCK", f"{knock!r} is not cavage or rfc9421"
            )
        values["signature_first_knock"] = knock
    if "retention_days" in raw:
        values["retention_days"] = _days("COPNET_RETENTION_DAYS", raw["retention_days"])
    if "event_loop" in raw:
        values["event_loop"] = _event_loop(str(raw["event_loop"]))
    return values


def _mail(raw: dict[str, object]) -> dict[str, object]:
    values: dict[str, object] = {}
    if str(raw.get("smtp_url") or "").strip():
        url = str(raw["smtp_url"]).strip()
        try:
            parse_smtp_url(url)
        except ValueError as problem:
            raise SettingsError("COPNET_SMTP_URL", str(problem)) from None
        values["smtp_url"] = url
    if str(raw.get("mail_from") or "").strip():
        sender = str(raw["mail_from"]).strip()
        if not valid_sender(sender):
            raise SettingsError(
                "COPNET_MAIL_FROM", f"{sender!r} is not an address like copnet@example.org"
            )
        values["mail_from"] = sender
    if str(raw.get("smtp_ca_file") or "").strip():
        path = str(raw["smtp_ca_file"]).strip()
        if not Path(path).is_file():
            raise SettingsError("COPNET_SMTP_CA_FILE", f"file {path} does not exist")
        values["smtp_ca_file"] = path
    return values


def _event_loop(value: str) -> str:
    loop = value.strip().lower()
    if loop not in EVENT_LOOPS:
        raise SettingsError("COPNET_EVENT_LOOP", f"{value!r} is not asyncio or uvloop")
    if loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise SettingsError(
            "COPNET_EVENT_LOOP", "uvloop is not installed (pip install 'copnet[uvloop]')"
        )
    return loop


def _public_url(value: str) -> str:
    try:
        url = URL(value.strip())
    except ValueError:
        raise SettingsError("COPNET_URL", f"{value!r} is not a URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise SettingsError("COPNET_URL", f"{value!r} must be an http:// or https:// URL")
    if url.path not in ("", "/") or url.query_string or url.fragment:
        raise SettingsError("COPNET_URL", f"{value!r} must be a bare origin, without a path")
    return str(url.origin())


def _database_url(value: str) -> str:
    value = value.strip()
    if value.startswith("postgres://"):
        value = "postgresql://" + value.removeprefix("postgres://")
    if value.startswith("postgresql://"):
        value = "postgresql+asyncpg://" + value.removeprefix("postgresql://")
    if value.startswith("sqlite:///"):
        value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
    if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        raise SettingsError(
            "DATABASE_URL", f"{value!r} must start with postgresql:// or sqlite:///"
        )
    return value


def _port(value: object, variable: str = "COPNET_PORT") -> int:
    try:
        port = int(str(value))
    except ValueError:
        raise SettingsError(variable, f"{value!r} is not a number") from None
    if not 0 < port < 65536:
        raise SettingsError(variable, f"{port} is not between 1 and 65535")
    return port


def _days(variable: str, value: object) -> int:
    try:
        days = int(str(value).strip())
    except ValueError:
        raise SettingsError(variable, f"{value!r} is not a whole number of days") from None
    if not 0 <= days <= 3650:
        raise SettingsError(variable, f"{days} is not between 0 (keep forever) and 3650")
    return days


def _megabytes(variable: str, value: object) -> int:
    try:
        megabytes = float(str(value))
    except ValueError:
        raise SettingsError(variable, f"{value!r} is not a number of megabytes") from None
    if not 0 < megabytes <= 1024:
        raise SettingsError(variable, f"{value} is not between 0 and 1024")
    return int(megabytes * 1024 * 1024)


def _boolean(variable: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingsError(variable, f"{value!r} is not a yes/no value (use true or false)")


def _networks(variable: str, value: object) -> tuple[IPNetwork, ...]:
    """Comma-separated IP addresses or CIDR ranges (a TOML list works too)."""
    items = value if isinstance(value, list) else str(value).split(",")
    networks = []
    for item in (str(i).strip() for i in items):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(variable, f"{item!r} is not an IP address or range") from None
    return tuple(networks)
