"""The double-knock rule: what to try after a refusal, and what a hint may change."""

from __future__ import annotations

import pytest

from federation.knock import CAVAGE, RFC9421, Knock, components_for, second_knock

HINT = 'sig1=("@method" "@target-uri" "content-digest" "date");created;keyid'


@pytest.mark.parametrize("status", [400, 401])
def test_refused_rfc9421_falls_back_to_cavage(status) -> None:
    assert second_knock("POST", Knock(RFC9421), status, None, may_try_rfc9421=True) == Knock(CAVAGE)


@pytest.mark.parametrize("status", [None, 403, 404, 410, 429, 500, 503])
def test_other_failures_are_not_the_signatures_fault(status) -> None:
    assert second_knock("POST", Knock(RFC9421), status, HINT, may_try_rfc9421=True) is None
    assert second_knock("POST", Knock(CAVAGE), status, HINT, may_try_rfc9421=True) is None


def test_refused_cavage_without_hint_is_the_answer() -> None:
    assert second_knock("POST", Knock(CAVAGE), 401, None, may_try_rfc9421=True) is None


def test_hint_turns_refused_cavage_into_rfc9421_with_the_asked_components() -> None:
    second = second_knock("POST", Knock(CAVAGE), 401, HINT, may_try_rfc9421=True)
    assert second == Knock(RFC9421, ("@method", "@target-uri", "content-digest", "date"))


def test_hint_never_brings_back_rfc9421_to_a_server_that_refused_it() -> None:
    assert second_knock("POST", Knock(CAVAGE), 401, HINT, may_try_rfc9421=False) is None


def test_hint_asking_for_what_was_signed_falls_back_to_cavage() -> None:
    hint = 'sig1=("@method" "@target-uri" "content-digest");created'
    assert second_knock("POST", Knock(RFC9421), 401, hint, may_try_rfc9421=True) == Knock(CAVAGE)


def test_hint_we_cannot_meet_is_ignored() -> None:
    hint = 'sig1=("@method" "x-secret");created'
    assert second_knock("POST", Knock(CAVAGE), 401, hint, may_try_rfc9421=True) is None


def test_a_get_never_covers_content_digest() -> None:
    assert components_for("GET", ("content-digest", "@authority")) == (
        "@method",
        "@target-uri",
        "@authority",
    )
