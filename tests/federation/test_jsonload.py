"""Strict JSON for remote documents: what Python's json accepts but copnet must not."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from federation.fetch import Fetcher, FetchError, FetchPolicy
from federation.jsonload import JsonRejected, loads_strict
from federation.netguard import make_connector
from tests.federation.test_fetch import AS2, HOSTS, Remote


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ('{"a": NaN}', "NaN"),
        ('{"a": Infinity}', "Infinity"),
        ('{"a": -Infinity}', "Infinity"),
        ('{"a": 1e400}', "out of range"),
        ('{"a": -1e400}', "out of range"),
        ('{"a": ' + "7" * 5000 + "}", "digits"),
        ('{"a": "\\ud800"}', "surrogate"),
        ('{"\\udfff": 1}', "surrogate"),
        ('{"a": ["x\\u0000y"]}', "NUL"),
        ("[" * 70 + "]" * 70, "too deeply"),
        ("{nope", "not valid JSON"),
    ],
)
def test_refused_with_reason(text, reason_part):
    with pytest.raises(JsonRejected) as info:
        loads_strict(text)
    assert reason_part in info.value.reason


def test_ordinary_json_is_kept():
    text = '{"a": [1, -2.5, 1e300, "\\ud83d\\ude00 caf\\u00e9", null, true], "b": {}}'
    assert loads_strict(text.encode()) == {
        "a": [1, -2.5, 1e300, "\U0001f600 café", None, True],
        "b": {},
    }


def test_text_handed_in_with_a_raw_lone_surrogate_is_refused():
    # Only a str can hold one raw (a body decoded from UTF-8 cannot); no escape gives it away.
    with pytest.raises(JsonRejected, match="surrogate"):
        loads_strict('{"a": "caf\udce9"}')


def test_an_escaped_backslash_before_u0000_is_text_not_nul():
    assert loads_strict(b'{"a": "C:\\\\u0000"}') == {"a": "C:\\u0000"}


def test_nesting_is_measured_not_guessed_from_brackets_in_strings():
    shallow = '{"a": "' + "[" * 70 + '", "b": [[{}]]}'
    assert loads_strict(shallow, max_depth=4)["b"] == [[{}]]
    deep = '{"a": "[[[[[[", "b": ' + "[" * 5 + "]" * 5 + "}"
    with pytest.raises(JsonRejected, match="too deeply"):
        loads_strict(deep, max_depth=4)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "1e999"])
async def test_fetched_document_with_non_finite_number_is_refused(aiohttp_server, constant):
    remote = Remote()
    remote.port = (await aiohttp_server(remote.app)).port

    async def handler(request: web.Request) -> web.Response:
        text = f'{{"id": "{remote.url("/x")}", "capacity": {constant}}}'
        return web.Response(text=text, content_type=AS2)

    remote.route("/x", handler)
    async with aiohttp.ClientSession(
        connector=make_connector(allow_private=True, host_map=HOSTS)
    ) as session:
        fetcher = Fetcher(session, FetchPolicy(allow_private=True))
        with pytest.raises(FetchError, match="not acceptable JSON"):
            await fetcher.fetch_json(remote.url("/x"))
