"""One rule for "the same server"."""

from __future__ import annotations

from random import Random

import pytest

from federation import origin
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


# URLs of the plain form, where the answer comes without yarl: each must match yarl's.
PLAIN_EDGES = [
    "https://Example.ORG/users/a",
    "https://example.org.",
    "https://example.org..",
    "https://a..b/x",
    "https://a-/x",
    "https://a.org:443",
    "https://a.org:80/x",
    "http://a.org:443/x",
    "http://a.org:80?q=1",
    "https://a.org:65535/",
    "https://a.org:65536/",
    "https://a.org:99999/x",
    "https://a.org#frag",
    "https://a.org/x@evil.example/",
    "https://a.org/\\evil.example",
    "https://a.org?next=https://b.example",
    "https://1.2.3.4:8080/x",
    "https://1.2.3.04/x",
    "https://0x7f.1/x",
    "https://a.org/%zz/[]{}|^`",
    "http://localhost:1/inbox",
]


def _random_plain_urls(count: int) -> list[str]:
    random = Random(16)
    labels = "abcXYZ019-."
    tail = "".join(chr(code) for code in range(0x21, 0x7F))
    urls = []
    for _ in range(count):
        host = random.choice("aZ9") + "".join(random.choices(labels, k=random.randint(0, 12)))
        port = random.choice(["", f":{random.randint(1, 70000)}", ":80", ":443"])
        rest = random.choice(["", "/", "?", "#"]) + "".join(
            random.choices(tail, k=random.randint(0, 20))
        )
        if not rest or rest[0] not in "/?#":
            rest = ""
        urls.append(f"{random.choice(['http', 'https'])}://{host}{port}{rest}")
    return urls


@pytest.mark.parametrize("url", PLAIN_EDGES)
def test_the_plain_form_shortcut_gives_yarls_answer(url):
    assert origin._PLAIN.match(url), f"{url!r} is not of the plain form"
    assert origin._server_of.__wrapped__(url) == origin._parsed_server_of(url)


def test_the_shortcut_gives_yarls_answer_for_random_plain_urls():
    urls = _random_plain_urls(5000)
    assert all(origin._PLAIN.match(url) for url in urls)
    differ = [
        url for url in urls if origin._server_of.__wrapped__(url) != origin._parsed_server_of(url)
    ]
    assert differ == []


@pytest.mark.parametrize(
    "url",
    [
        "https://user@a.org/",
        "https://a.org:0443/",
        "https://a.org:/x",
        "HTTPS://a.org/",
        "https://[::1]/",
        "https://bücher.example/",
        "https://a%2eorg/",
        "https://a.org/x y",
        "https://a.org\n/x",
        "https://_dmarc.a.org/",
        "ftp://a.org/",
    ],
)
def test_anything_else_goes_through_yarl(url):
    assert not origin._PLAIN.match(url)


def test_a_very_long_url_is_answered_without_staying_in_the_cache():
    url = "https://Long.example/" + "x" * 100_000
    before = origin._server_of.cache_info().currsize
    assert authority(url) == "long.example"
    assert domain_of(url) == "long.example"
    assert origin._server_of.cache_info().currsize == before
