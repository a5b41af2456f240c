"""Accept headers pick AS2 or HTML; nonsense gets a clear 4xx."""

from __future__ import annotations

import pytest
from aiohttp import web

from server.http.negotiation import choose_representation


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("application/activity+json", "as2"),
        ('application/ld+json; profile="https://www.w3.org/ns/activitystreams"', "as2"),
        ("application/ld+json", "as2"),
        ("application/json", "as2"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "html"),
        ("*/*", "html"),
        (None, "html"),
        ("application/activity+json, */*;q=0.1", "as2"),
        ("text/html;q=0.5, application/activity+json;q=0.9", "as2"),
        ("application/*", "as2"),
    ],
)
def test_representation_is_chosen(accept, expected):
    assert choose_representation(accept) == expected


def test_ld_json_with_another_profile_is_not_activitystreams():
    assert (
        choose_representation(
            'application/ld+json; profile="https://example.org/x", text/html;q=0.1'
        )
        == "html"
    )


@pytest.mark.parametrize("accept", ["image/png", "text/html;q=0, application/activity+json;q=0"])
def test_nothing_acceptable_is_406(accept):
    with pytest.raises(web.HTTPNotAcceptable):
        choose_representation(accept)


@pytest.mark.parametrize("accept", ["garbage", "text/html;q=high", "text/html;q=2", "*/html"])
def test_malformed_accept_is_400(accept):
    with pytest.raises(web.HTTPBadRequest) as caught:
        choose_representation(accept)
    assert "malformed Accept header" in caught.value.text
