"""Settings load from the environment and a TOML file; bad values name the setting."""

from __future__ import annotations

import pytest

from server.settings import DEFAULT_DATABASE_URL, load_settings
from server.settings_validation import SettingsError


def test_defaults_need_nothing():
    settings = load_settings({})
    assert settings.url == "http://localhost:8080"
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.port == 8080
    assert settings.allow_private_addresses is False
    assert settings.domain == "localhost:8080"


def test_environment_overrides_and_normalises():
    settings = load_settings(
        {
            "COPNET_URL": "https://cops.example.org/",
            "DATABASE_URL": "postgres://u@db/copnet",
            "COPNET_PORT": "9000",
            "COPNET_ALLOW_PRIVATE_ADDRESSES": "yes",
        }
    )
    assert settings.url == "https://cops.example.org"
    assert settings.domain == "cops.example.org"
    assert settings.database_url == "postgresql+asyncpg://u@db/copnet"
    assert settings.port == 9000
    assert settings.allow_private_addresses is True


def test_toml_file_is_read_and_environment_wins(tmp_path):
    config = tmp_path / "copnet.toml"
    config.write_text('url = "https://from-file.example"\nport = 7000\n')
    settings = load_settings({"COPNET_CONFIG": str(config), "COPNET_PORT": "7100"})
    assert settings.url == "https://from-file.example"
    assert settings.port == 7100


@pytest.mark.parametrize(
    ("environ", "setting"),
    [
        ({"COPNET_URL": "ftp://example.org"}, "COPNET_URL"),
        ({"COPNET_URL": "https://example.org/sub/path"}, "COPNET_URL"),
        ({"DATABASE_URL": "mysql://root@db/x"}, "DATABASE_URL"),
        ({"COPNET_PORT": "eighty"}, "COPNET_PORT"),
        ({"COPNET_PORT": "70000"}, "COPNET_PORT"),
        ({"COPNET_ALLOW_PRIVATE_ADDRESSES": "maybe"}, "COPNET_ALLOW_PRIVATE_ADDRESSES"),
        ({"COPNET_CONFIG": "/nonexistent/copnet.toml"}, "COPNET_CONFIG"),
        ({"COPNET_RETENTION_DAYS": "a month"}, "COPNET_RETENTION_DAYS"),
        ({"COPNET_RETENTION_DAYS": "-1"}, "COPNET_RETENTION_DAYS"),
        ({"COPNET_RETENTION_DAYS": "9999"}, "COPNET_RETENTION_DAYS"),
    ],
)
def test_bad_value_names_the_setting(environ, setting):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ)
    assert caught.value.setting == setting
    assert str(caught.value).startswith(f"{setting}: ")


def test_retention_keeps_30_days_by_default_and_0_keeps_everything():
    assert load_settings({}).retention_days == 30
    assert load_settings({"COPNET_RETENTION_DAYS": "90"}).retention_days == 90
    assert load_settings({"COPNET_RETENTION_DAYS": "0"}).retention_days == 0


def test_unknown_toml_key_is_refused(tmp_path):
    config = tmp_path / "copnet.toml"
    config.write_text('colour = "blue"\n')
    with pytest.raises(SettingsError, match="unknown key 'colour'"):
        load_settings({"COPNET_CONFIG": str(config)})


def test_signature_first_knock():
    assert load_settings({}).signature_first_knock == "cavage"
    env = {"COPNET_SIGNATURE_FIRST_KNOCK": " RFC9421 "}
    assert load_settings(env).signature_first_knock == "rfc9421"
    with pytest.raises(SettingsError) as excinfo:
        load_settings({"COPNET_SIGNATURE_FIRST_KNOCK": "hs2019"})
    assert excinfo.value.setting == "COPNET_SIGNATURE_FIRST_KNOCK"
