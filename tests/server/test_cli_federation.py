"""`copnet federation …`: allow, block, unblock, list and mode, with one-line errors."""

from __future__ import annotations

import argparse

import pytest

from server.cli import main as cli
from server.cli.federation import add_federation_commands
from tests.support.instances import settings_for


@pytest.fixture
def settings(database_url):
    return settings_for(database_url, url="https://cops.example")


@pytest.fixture
def run(settings, capsys):
    """Parse argv the way `copnet` will once the command is registered, and run the handler."""
    parser = argparse.ArgumentParser(prog="copnet")
    add_federation_commands(parser.add_subparsers(dest="command", required=True))

    def invoke(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        args = parser.parse_args(["federation", *argv])
        code = args.handler(settings, args)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def test_block_allow_and_list(run):
    assert run("block", "Spam.Example", "--reason", "spam\nwaves")[0] == 0
    code, out, _ = run("allow", "partner.example", "--reason", "our partner")
    assert code == 0
    assert out == "allowed partner.example and its subdomains (our partner)\n"
    code, out, _ = run("list")
    assert code == 0
    assert out.splitlines() == [
        "mode\topen",
        "partner.example\tallow\tour partner",
        "spam.example\tblock\tspam waves",
    ]


def test_a_new_decision_replaces_the_old_one(run):
    run("allow", "partner.example")
    run("block", "partner.example", "--reason", "changed our mind")
    assert run("list")[1].splitlines()[1:] == ["partner.example\tblock\tchanged our mind"]


def test_unblock_removes_any_entry_and_is_idempotent(run):
    run("allow", "partner.example")
    run("block", "spam.example")
    assert run("unblock", "PARTNER.example")[1] == "removed the entry for partner.example\n"
    assert run("unblock", "spam.example")[0] == 0
    code, out, _ = run("unblock", "spam.example")
    assert (code, out) == (0, "spam.example had no entry\n")
    assert run("list")[1] == "mode\topen\n"


def test_mode_prints_and_sets(run):
    assert run("mode")[1] == "open\n"
    code, out, err = run("mode", "allowlist")
    assert (code, out) == (0, "federation mode: allowlist\n")
    assert "federates with nobody" in err
    assert run("mode")[1] == "allowlist\n"
    run("allow", "partner.example")
    assert run("mode", "allowlist")[2] == ""
    assert run("list")[1].splitlines()[0] == "mode\tallowlist"


def test_unknown_mode_is_an_argparse_error(run):
    with pytest.raises(SystemExit) as caught:
        run("mode", "closed")
    assert caught.value.code == 2


@pytest.mark.parametrize(
    ("domain", "message"),
    [
        ("https://spam.example/users/bob", "is a URL: give the bare domain; did you mean spam.exa"),
        ("spam.example/users", "is not a domain (no paths, users or spaces)"),
        ("", "the domain must not be empty"),
        ("*.spam.example", "is not a valid domain"),
    ],
)
@pytest.mark.parametrize("action", ["allow", "block", "unblock"])
def test_bad_domains_fail_with_one_line(run, action, domain, message):
    code, out, err = run(action, domain)
    assert code == 1
    assert out == ""
    assert err.startswith("copnet: error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert run("list")[1] == "mode\topen\n"


def test_the_networks_own_domain_cannot_be_blocked(run):
    code, _, err = run("block", "COPS.example")
    assert code == 1
    assert "own domain" in err
    assert run("allow", "cops.example")[0] == 0


def test_copnet_main_runs_federation_commands(database_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("COPNET_URL", "https://cops.example")
    assert cli.main(["federation", "block", "spam.example"]) == 0
    assert cli.main(["federation", "list"]) == 0
    assert "spam.example\tblock\t" in capsys.readouterr().out
