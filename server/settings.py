"""Configuration from environment variables and an optional TOML file."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yarl import URL

from server.settings_validation import IPNetwork, SettingsError, validated_values

DEFAULT_URL = "http://localhost:8080"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/copnet.sqlite3"


@dataclass(frozen=True)
class Settings:
    """Everything copnet reads from its environment."""

    url: str = DEFAULT_URL
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8080
    allow_private_addresses: bool = False
    run_workers: bool = True
    instance_name: str = "copnet"
    media_dir: str = ""  # empty: `media/` beside the SQLite file, else var/media
    max_upload_bytes: int = 20 * 1024 * 1024
    host_map: Mapping[str, str] = field(default_factory=dict)
    trusted_proxies: tuple[IPNetwork, ...] = ()  # peers whose X-Forwarded-For is believed
    log_format: str = "text"  # or "json": one JSON object per line
    access_log: bool = True  # read by `copnet serve`; apps built in code log no requests
    metrics_token: str = ""  # empty: no /metrics on the main port
    metrics_port: int | None = None  # a separate listener for /metrics, without a token
    metrics_host: str = "127.0.0.1"
    # How to sign to a server whose signature standard is not known yet (docs/architecture.md,
    # "Signatures"): "cavage" (every fediverse server reads it) or "rfc9421".
    signature_first_knock: str = "cavage"
    # empty: mail is written to the log instead of being sent; kept out of repr (a password)
    smtp_url: str = field(default="", repr=False)
    mail_from: str = ""  # empty: copnet@DOMAIN
    smtp_ca_file: str = ""  # a CA bundle to trust besides the system's (an internal relay)

    @property
    def mail_enabled(self) -> bool:
        """True when mail goes to a real SMTP server."""
        return bool(self.smtp_url)

    @property
    def sender(self) -> str:
        """The From address of every mail."""
        return self.mail_from or f"copnet@{self.base.host}"

    retention_days: int = 30  # finished queue rows older than this are removed; 0 keeps them
    event_loop: str = "asyncio"  # or "uvloop" (copnet[uvloop]) for `serve` and `worker`

    @property
    def base(self) -> URL:
        """The public base URL as a yarl URL."""
        return URL(self.url)

    @property
    def domain(self) -> str:
        """Host (and port when not default) as used in `acct:` handles."""
        base = self.base
        assert base.host is not None
        if base.explicit_port is None or base.is_default_port():
            return base.host
        return f"{base.host}:{base.port}"


# (environment variable, TOML key, field name)
_SOURCES = (
    ("COPNET_URL", "url", "url"),
    ("DATABASE_URL", "database_url", "database_url"),
    ("COPNET_HOST", "host", "host"),
    ("COPNET_PORT", "port", "port"),
    ("COPNET_ALLOW_PRIVATE_ADDRESSES", "allow_private_addresses", "allow_private_addresses"),
    ("COPNET_RUN_WORKERS", "run_workers", "run_workers"),
    ("COPNET_INSTANCE_NAME", "instance_name", "instance_name"),
    ("COPNET_MEDIA_DIR", "media_dir", "media_dir"),
    ("COPNET_MAX_UPLOAD_MB", "max_upload_mb", "max_upload_mb"),
    ("COPNET_TRUSTED_PROXIES", "trusted_proxies", "trusted_proxies"),
    ("COPNET_LOG_FORMAT", "log_format", "log_format"),
    ("COPNET_ACCESS_LOG", "access_log", "access_log"),
    ("COPNET_METRICS_TOKEN", "metrics_token", "metrics_token"),
    ("COPNET_METRICS_PORT", "metrics_port", "metrics_port"),
    ("COPNET_METRICS_HOST", "metrics_host", "metrics_host"),
    ("COPNET_SIGNATURE_FIRST_KNOCK", "signature_first_knock", "signature_first_knock"),
    ("COPNET_SMTP_URL", "smtp_url", "smtp_url"),
    ("COPNET_MAIL_FROM", "mail_from", "mail_from"),
    ("COPNET_SMTP_CA_FILE", "smtp_ca_file", "smtp_ca_file"),
    ("COPNET_RETENTION_DAYS", "retention_days", "retention_days"),
    ("COPNET_EVENT_LOOP", "event_loop", "event_loop"),
)


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from `COPNET_CONFIG` (TOML), then the environment, then overrides."""
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    config_path = env.get("COPNET_CONFIG")
    if config_path:
        raw.update(_read_toml(config_path))
    for variable, _key, name in _SOURCES:
        if variable in env:
            raw[name] = env[variable]
    raw.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**validated_values(raw))  # type: ignore[arg-type]


def _read_toml(path: str) -> dict[str, object]:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError("COPNET_CONFIG", f"file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError("COPNET_CONFIG", f"{path} is not valid TOML ({exc})") from None
    known = {key: name for _var, key, name in _SOURCES}
    # host_map (TOML only): {"peer.test" = "127.0.0.1"}, for several instances on one machine.
    known["host_map"] = "host_map"
    result: dict[str, object] = {}
    for key, value in data.items():
        if key not in known:
            raise SettingsError("COPNET_CONFIG", f"unknown key {key!r} in {path}")
        result[known[key]] = value
    return result
