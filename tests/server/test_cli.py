"""The `copnet` command line: clear messages and exit codes, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from server.cli.main import build_parser, main


@pytest.fixture
def env(monkeypatch, database_url):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("COPNET_URL", "https://cops.example")
    return database_url


def test_create_and_list_communities(env, capsys):
    assert main(["community", "create", "nursing", "--title", "Nursing", "--summary", "Hi"]) == 0
    assert "created @nursing@cops.example" in capsys.readouterr().out
    assert main(["community", "list"]) == 0
    assert "@nursing@cops.example\tNursing" in capsys.readouterr().out


def test_invalid_and_taken_names_fail_with_one_line(env, capsys):
    assert main(["community", "create", "Bad Name", "--title", "x"]) == 1
    assert capsys.readouterr().err.strip().startswith("copnet: error: invalid name 'Bad Name'")
    assert main(["community", "create", "instance", "--title", "x"]) == 1
    assert "reserved" in capsys.readouterr().err
    assert main(["community", "create", "nursing", "--title", "x"]) == 0
    assert main(["community", "create", "nursing", "--title", "y"]) == 1
    assert "already taken" in capsys.readouterr().err


def test_demo_is_idempotent(env, capsys):
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    assert main(["demo"]) == 0
    assert "0 new communities" in capsys.readouterr().out
    assert "5 new communities" in first


def test_migrate_twice_says_already_current(env, capsys):
    assert main(["migrate"]) == 0
    assert "already at revision" in capsys.readouterr().out


def test_unmigrated_database_says_what_to_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/empty.sqlite3")
    assert main(["community", "list"]) == 1
    assert "run `copnet migrate`" in capsys.readouterr().err
    assert main(["serve", "--port", "8999"]) == 1
    assert "run `copnet migrate`" in capsys.readouterr().err


def test_bad_setting_stops_with_the_setting_named(monkeypatch, capsys):
    monkeypatch.setenv("COPNET_URL", "not a url")
    assert main(["community", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("copnet: error: COPNET_URL:")
    assert len(err.strip().splitlines()) == 1


def test_unreachable_database_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert main(["community", "list"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("copnet: error: cannot reach PostgreSQL at 127.0.0.1:1")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["serve"],
        ["migrate"],
        ["demo"],
        ["community"],
        ["community", "create"],
        ["community", "list"],
    ],
)
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args([*argv, "--help"])
    assert exited.value.code == 0
    assert "usage: copnet" in capsys.readouterr().out


def test_bad_argument_is_a_usage_error():
    result = subprocess.run(
        [sys.executable, "-m", "server.cli.main", "community", "create", "x"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "--title" in result.stderr
    assert "Traceback" not in result.stderr
