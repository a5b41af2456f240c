"""One rule for "the same server"."""

from __future__ import annotations

import pytest

from federation.origin import authority, domain_of, same_origin


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.ORG/users/a", "example.org"),
        ("https://example.org./users/a", "example.org"),
        ("https://example.org:443/x", "example.org"),
        ("http://example.org:80/x", "example.org"),
        ("https://example.org:8443/x", "example.org:8443"),
        ("http://127.0.0.1:8081/inbox", "127.0.0.1:8081"),
        ("https://bücher.example/u", "xn--bcher-kva.example"),
        ("http://[::1]:8080/a", "[::1]:8080"),
        ("ftp://example.org/x", None),
        ("/relative/path", None),
        ("https://", None),
        ("", None),
        (None, None),
        (["https://example.org/"], None),
        ("https://exa mple.org/", None),
    ],
)
def test_authority_names_the_server(url, expected):
    assert authority(url) == expected


def test_domain_drops_the_port():
    assert domain_of("https://Partner.example:8443/c/x") == "partner.example"
    assert domain_of("not a url") is None


def test_same_origin_compares_servers_not_schemes_or_paths():
    assert same_origin("https://a.example/users/x", "https://A.example./notes/1")
    assert same_origin("http://a.example/x", "https://a.example/y")
    assert not same_origin("https://a.example/x", "https://a.example:8443/x")
    assert not same_origin("http://127.0.0.1:8080/a", "http://127.0.0.1:8081/a")
    assert not same_origin("https://a.example/x", "https://b.example/x")
    assert not same_origin(None, None)
    assert not same_origin("/x", "/x")
