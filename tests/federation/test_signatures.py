"""HTTP Signatures: published vectors, httpsig cross-checks, and one tampered thing per test."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta, timezone

import httpsig
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding
from multidict import CIMultiDict

from federation.content_digest import digest_sha256, verify_digest
from federation.http_dates import format_http_date, parse_http_date
from federation.keys import generate_rsa_keypair, load_private_key, public_pem_of
from federation.signature_header import (
    ParsedSignature,
    SignatureError,
    parse_signature_header,
    signature_from_headers,
)
from federation.signatures import sign_request, signing_string, verify_request
from tests.federation import vectors as v

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
KEY_ID = "https://cop.example/c/nursing#main-key"
INBOX = "https://remote.example/inbox"
TARGET = "/inbox"
BODY = b'{"type":"Create","actor":"https://cop.example/c/nursing"}'
BASE_HEADERS = {"Content-Type": "application/activity+json"}


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    return generate_rsa_keypair()


@pytest.fixture(scope="module")
def other_keypair() -> tuple[str, str]:
    return generate_rsa_keypair()


def _sign_post(private_pem: str, **kwargs) -> dict[str, str]:
    kwargs.setdefault("now", NOW)
    return sign_request(
        "POST", INBOX, BASE_HEADERS, BODY, key_id=KEY_ID, private_key=private_pem, **kwargs
    )


def _sign_get(private_pem: str, url: str = INBOX, **kwargs) -> dict[str, str]:
    kwargs.setdefault("now", NOW)
    return sign_request("GET", url, {}, None, key_id=KEY_ID, private_key=private_pem, **kwargs)


def _verify(headers, public_pem, *, method="POST", target=TARGET, body=BODY, now=NOW, **kwargs):
    parsed = signature_from_headers(headers)
    verify_request(method, target, headers, parsed, public_pem, now=now, body=body, **kwargs)


def _hand_signed(
    private_pem: str,
    covered: list[str],
    headers: dict[str, str],
    *,
    method: str = "POST",
    target: str = TARGET,
    algorithm: str = "rsa-sha256",
    created: int | None = None,
    expires: int | None = None,
) -> dict[str, str]:
    """Sign an arbitrary header list, for signatures sign_request would never produce."""
    text = signing_string(covered, method, target, headers, created=created, expires=expires)
    raw = load_private_key(private_pem).sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
    params = f'keyId="{KEY_ID}",algorithm="{algorithm}",'
    if created is not None:
        params += f"created={created},"
    if expires is not None:
        params += f"expires={expires},"
    value = f'{params}headers="{" ".join(covered)}",signature="{base64.b64encode(raw).decode()}"'
    return {**headers, "Signature": value}


def _post_headers() -> dict[str, str]:
    return {
        "Host": "remote.example",
        "Date": format_http_date(NOW),
        "Digest": digest_sha256(BODY),
    }


def _reason(excinfo: pytest.ExceptionInfo[SignatureError]) -> str:
    return excinfo.value.reason


# --- draft-cavage-http-signatures-12 Appendix C ----------------------------------------------


def _rsa_sign_b64(private_pem: str, text: str) -> str:
    key = load_private_key(private_pem)
    return base64.b64encode(key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def test_cavage_test_key_pair_matches() -> None:
    assert public_pem_of(load_private_key(v.CAVAGE_PRIVATE_KEY_PEM)) == v.CAVAGE_PUBLIC_KEY_PEM


def test_cavage_c1_default_signs_only_the_date() -> None:
    parsed = parse_signature_header(v.C1_AUTHORIZATION)
    assert parsed.headers == ("date",)
    text = signing_string(parsed.headers, v.CAVAGE_METHOD, v.CAVAGE_TARGET, v.CAVAGE_HEADERS)
    assert text == v.C1_SIGNING_STRING
    assert (
        _rsa_sign_b64(v.CAVAGE_PRIVATE_KEY_PEM, text) == base64.b64encode(parsed.signature).decode()
    )
    verify_request(
        v.CAVAGE_METHOD,
        v.CAVAGE_TARGET,
        v.CAVAGE_HEADERS,
        parsed,
        v.CAVAGE_PUBLIC_KEY_PEM,
        now=v.CAVAGE_NOW,
        body=v.CAVAGE_BODY,
        required=(),
    )


def test_cavage_c1_is_too_weak_for_our_default_post_policy() -> None:
    parsed = parse_signature_header(v.C1_AUTHORIZATION)
    with pytest.raises(SignatureError) as excinfo:
        verify_request(
            v.CAVAGE_METHOD,
            v.CAVAGE_TARGET,
            v.CAVAGE_HEADERS,
            parsed,
            v.CAVAGE_PUBLIC_KEY_PEM,
            now=v.CAVAGE_NOW,
            body=v.CAVAGE_BODY,
        )
    assert _reason(excinfo) == "signature does not cover (request-target)"


def test_cavage_c2_basic() -> None:
    parsed = signature_from_headers({**v.CAVAGE_HEADERS, "Authorization": v.C2_AUTHORIZATION})
    assert parsed.key_id == "Test"
    assert parsed.headers == ("(request-target)", "host", "date")
    text = signing_string(parsed.headers, v.CAVAGE_METHOD, v.CAVAGE_TARGET, v.CAVAGE_HEADERS)
    assert text == v.C2_SIGNING_STRING
    assert (
        _rsa_sign_b64(v.CAVAGE_PRIVATE_KEY_PEM, text) == base64.b64encode(parsed.signature).decode()
    )
    verify_request(
        v.CAVAGE_METHOD,
        v.CAVAGE_TARGET,
        v.CAVAGE_HEADERS,
        parsed,
        v.CAVAGE_PUBLIC_KEY_PEM,
        now=v.CAVAGE_NOW,
        body=v.CAVAGE_BODY,
        required=("(request-target)", "host", "date"),
    )


def test_cavage_c3_all_headers_passes_our_default_post_policy() -> None:
    parsed = parse_signature_header(v.C3_AUTHORIZATION)
    text = signing_string(parsed.headers, v.CAVAGE_METHOD, v.CAVAGE_TARGET, v.CAVAGE_HEADERS)
    assert text == v.C3_SIGNING_STRING
    assert _rsa_sign_b64(v.CAVAGE_PRIVATE_KEY_PEM, text) == v.C3_SIGNATURE_B64
    assert digest_sha256(v.CAVAGE_BODY) == v.CAVAGE_HEADERS["Digest"]
    verify_request(
        v.CAVAGE_METHOD,
        v.CAVAGE_TARGET,
        v.CAVAGE_HEADERS,
        parsed,
        v.CAVAGE_PUBLIC_KEY_PEM,
        now=v.CAVAGE_NOW,
        body=v.CAVAGE_BODY,
    )


def test_cavage_c3_as_printed_in_draft_12_is_inconsistent() -> None:
    parsed = parse_signature_header(v.C3_AS_PRINTED_IN_DRAFT_12)
    assert (parsed.created, parsed.expires) == (1402170695, 1402170699)
    text = signing_string(
        parsed.headers,
        v.CAVAGE_METHOD,
        v.CAVAGE_TARGET,
        v.CAVAGE_HEADERS,
        created=parsed.created,
        expires=parsed.expires,
    )
    # The printed signature is not over the printed header list...
    assert _rsa_sign_b64(v.CAVAGE_PRIVATE_KEY_PEM, text) != v.C3_SIGNATURE_B64
    # ...and rsa-sha256 with (created) is an error by the draft's own section 2.3.
    with pytest.raises(SignatureError) as excinfo:
        verify_request(
            v.CAVAGE_METHOD,
            v.CAVAGE_TARGET,
            v.CAVAGE_HEADERS,
            parsed,
            v.CAVAGE_PUBLIC_KEY_PEM,
            now=datetime.fromtimestamp(1402170697, UTC),
            body=v.CAVAGE_BODY,
        )
    assert _reason(excinfo) == "(created) is only allowed with hs2019"


# --- Mastodon spec/requests/signature_verification_spec.rb ------------------------------------


def _mastodon_public_pem() -> str:
    return public_pem_of(load_private_key(v.MASTODON_PRIVATE_KEY_PEM))


def _mastodon_headers(signature: str, *, date: str = v.MASTODON_DATE, digest: bool = False):
    headers = {"Host": v.MASTODON_HOST, "Date": date, "Signature": signature}
    if digest:
        headers["Digest"] = v.MASTODON_DIGEST
    return headers


# (spec context, method, target, headers, body, expected failure reason or None if accepted)
MASTODON_CASES = [
    (
        "valid GET",
        "GET",
        "/activitypub/success",
        _mastodon_headers(v.MASTODON_SIG_GET),
        None,
        None,
    ),
    (
        "valid GET with query string",
        "GET",
        "/activitypub/success?foo=42",
        _mastodon_headers(v.MASTODON_SIG_GET_QUERY),
        None,
        None,
    ),
    (
        "query string missing from the signature (compatibility quirk)",
        "GET",
        "/activitypub/success?foo=42",
        _mastodon_headers(v.MASTODON_SIG_GET),
        None,
        None,
    ),
    (
        "mismatching query string",
        "GET",
        "/activitypub/success?foo=43",
        _mastodon_headers(v.MASTODON_SIG_GET_QUERY),
        None,
        "signature does not verify",
    ),
    (
        "mismatching path",
        "GET",
        "/activitypub/alternative-path",
        _mastodon_headers(v.MASTODON_SIG_GET),
        None,
        "signature does not verify",
    ),
    (
        "mismatching method",
        "POST",
        "/activitypub/success",
        _mastodon_headers(v.MASTODON_SIG_GET),
        b"",
        "signature does not cover digest",
    ),
    (
        "unparsable date",
        "GET",
        "/activitypub/success",
        _mastodon_headers(v.MASTODON_SIG_WRONG_DATE, date="wrong date"),
        None,
        "Date header is not a valid HTTP date",
    ),
    (
        "request older than a day",
        "GET",
        "/activitypub/success",
        _mastodon_headers(v.MASTODON_SIG_OLD_DATE, date=v.MASTODON_OLD_DATE),
        None,
        "Date is too old",
    ),
    (
        "valid POST",
        "POST",
        "/activitypub/success",
        _mastodon_headers(v.MASTODON_SIG_POST, digest=True),
        b"Hello world",
        None,
    ),
    (
        "Digest of a POST not signed",
        "POST",
        "/activitypub/success",
        _mastodon_headers(v.MASTODON_SIG_POST_NO_DIGEST, digest=True),
        b"Hello world",
        "signature does not cover digest",
    ),
    (
        "tampered body on a POST",
        "POST",
        "/activitypub/success",
        _mastodon_headers(v.MASTODON_SIG_POST, digest=True),
        b"Hello world!",
        "digest does not match body",
    ),
    (
        "tampered path in a POST",
        "POST",
        "/activitypub/alternative-path",
        _mastodon_headers(v.MASTODON_SIG_POST, digest=True),
        b"Hello world",
        "signature does not verify",
    ),
]


@pytest.mark.parametrize(
    ("method", "target", "headers", "body", "failure"),
    [case[1:] for case in MASTODON_CASES],
    ids=[case[0] for case in MASTODON_CASES],
)
def test_mastodon_spec_outcome(method, target, headers, body, failure) -> None:
    parsed = signature_from_headers(headers)
    assert parsed.key_id == v.MASTODON_KEY_ID

    def run() -> None:
        verify_request(
            method,
            target,
            headers,
            parsed,
            _mastodon_public_pem(),
            now=v.MASTODON_NOW,
            body=body,
        )

    if failure is None:
        run()
    else:
        with pytest.raises(SignatureError) as excinfo:
            run()
        assert _reason(excinfo) == failure


def test_mastodon_query_quirk_can_be_turned_off() -> None:
    headers = _mastodon_headers(v.MASTODON_SIG_GET)
    with pytest.raises(SignatureError) as excinfo:
        verify_request(
            "GET",
            "/activitypub/success?foo=42",
            headers,
            signature_from_headers(headers),
            _mastodon_public_pem(),
            now=v.MASTODON_NOW,
            allow_target_without_query=False,
        )
    assert _reason(excinfo) == "signature does not verify"


@pytest.mark.parametrize(
    ("signature", "method", "target", "headers"),
    [
        (v.MASTODON_SIG_GET, "GET", "/activitypub/success", _mastodon_headers("")),
        (v.MASTODON_SIG_GET_QUERY, "GET", "/activitypub/success?foo=42", _mastodon_headers("")),
        (
            v.MASTODON_SIG_WRONG_DATE,
            "GET",
            "/activitypub/success",
            _mastodon_headers("", date="wrong date"),
        ),
        (
            v.MASTODON_SIG_OLD_DATE,
            "GET",
            "/activitypub/success",
            _mastodon_headers("", date=v.MASTODON_OLD_DATE),
        ),
        (v.MASTODON_SIG_POST, "POST", "/activitypub/success", _mastodon_headers("", digest=True)),
        (
            v.MASTODON_SIG_POST_NO_DIGEST,
            "POST",
            "/activitypub/success",
            _mastodon_headers("", digest=True),
        ),
    ],
    ids=["get", "get-query", "wrong-date", "old-date", "post", "post-no-digest"],
)
def test_mastodon_signature_bytes_reproduced(signature, method, target, headers) -> None:
    parsed = parse_signature_header(signature)
    text = signing_string(parsed.headers, method, target, headers)
    expected = base64.b64encode(parsed.signature).decode()
    assert _rsa_sign_b64(v.MASTODON_PRIVATE_KEY_PEM, text) == expected


def test_mastodon_digest_vector() -> None:
    assert digest_sha256(b"Hello world") == v.MASTODON_DIGEST


def test_request_without_signature_is_not_signed() -> None:
    with pytest.raises(SignatureError) as excinfo:
        signature_from_headers({"Host": v.MASTODON_HOST, "Date": v.MASTODON_DATE})
    assert _reason(excinfo) == "request is not signed"


def test_bearer_authorization_is_not_a_signature() -> None:
    with pytest.raises(SignatureError) as excinfo:
        signature_from_headers({"Authorization": "Bearer abc"})
    assert _reason(excinfo) == "request is not signed"


def test_rfc9421_signature_is_named_as_such() -> None:
    headers = {"Signature-Input": 'sig1=("@method");created=1', "Signature": "sig1=:AAAA:"}
    with pytest.raises(SignatureError) as excinfo:
        signature_from_headers(headers)
    assert "RFC 9421" in _reason(excinfo)


# --- httpsig (PyPI) as an independent implementation ------------------------------------------


def test_httpsig_signs_we_verify(keypair) -> None:
    private_pem, public_pem = keypair
    headers = _post_headers()
    signer = httpsig.HeaderSigner(
        KEY_ID,
        private_pem,
        algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest"],
        sign_header="signature",
    )
    signed = dict(signer.sign(headers, method="POST", path=TARGET))
    _verify(signed, public_pem)


def test_httpsig_signature_with_tampered_path_fails_here(keypair) -> None:
    private_pem, public_pem = keypair
    signer = httpsig.HeaderSigner(
        KEY_ID,
        private_pem,
        algorithm="rsa-sha256",
        headers=["(request-target)", "host", "date", "digest"],
        sign_header="signature",
    )
    signed = dict(signer.sign(_post_headers(), method="POST", path=TARGET))
    with pytest.raises(SignatureError) as excinfo:
        _verify(signed, public_pem, target="/other")
    assert _reason(excinfo) == "signature does not verify"


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (INBOX, TARGET),
        ("https://remote.example:8443/users/a/inbox?x=1&y=2", "/users/a/inbox?x=1&y=2"),
    ],
)
def test_we_sign_httpsig_verifies(keypair, url, path) -> None:
    private_pem, public_pem = keypair
    signed = sign_request(
        "POST", url, BASE_HEADERS, BODY, key_id=KEY_ID, private_key=private_pem, now=NOW
    )
    verifier = httpsig.HeaderVerifier(
        signed,
        public_pem,
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path=path,
        sign_header="signature",
    )
    assert verifier.verify() is True


def test_httpsig_rejects_our_signature_for_another_path(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem)
    verifier = httpsig.HeaderVerifier(
        signed, public_pem, method="POST", path="/other", sign_header="signature"
    )
    assert verifier.verify() is False


# --- round trips --------------------------------------------------------------------------


def _params(signature_header: str) -> dict[str, str]:
    return {k: a or b for k, a, b in re.findall(r'(\w+)=(?:"([^"]*)"|([^,]*))', signature_header)}


def test_rsa_sha256_post_round_trip(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem)
    params = _params(signed["Signature"])
    assert params["keyId"] == KEY_ID
    assert params["algorithm"] == "rsa-sha256"
    assert params["headers"] == "(request-target) host date digest"
    assert signed["Host"] == "remote.example"
    assert signed["Date"] == "Wed, 01 May 2024 12:00:00 GMT"
    assert signed["Digest"] == "SHA-256=" + base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    assert signed["Content-Type"] == "application/activity+json"
    _verify(signed, public_pem)


def test_rsa_sha256_get_round_trip(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_get(private_pem, "https://remote.example/users/alice?page=2")
    assert "Digest" not in signed
    assert _params(signed["Signature"])["headers"] == "(request-target) host date"
    _verify(signed, public_pem, method="GET", target="/users/alice?page=2", body=None)


def test_hs2019_post_round_trip(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem, algorithm="hs2019")
    params = _params(signed["Signature"])
    assert params["algorithm"] == "hs2019"
    assert params["created"] == str(int(NOW.timestamp()))
    assert "expires" not in params
    assert params["headers"] == "(request-target) (created) host date digest"
    _verify(signed, public_pem)


def test_hs2019_get_with_expires_round_trip(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_get(private_pem, algorithm="hs2019", expires_in=300)
    params = _params(signed["Signature"])
    assert params["headers"] == "(request-target) (created) (expires) host date"
    assert int(params["expires"]) - int(params["created"]) == 300
    _verify(signed, public_pem, method="GET", body=None, now=NOW + timedelta(seconds=299))


def test_precomputed_digest_is_used_not_recomputed(keypair) -> None:
    private_pem, public_pem = keypair
    other_body = b'{"type":"Announce"}'
    given = digest_sha256(other_body)
    signed = _sign_post(private_pem, digest=given)
    assert signed["Digest"] == given
    # The signature covers the given digest, so it verifies against the body that digest is of.
    _verify(signed, public_pem, body=other_body)


def test_precomputed_digest_gives_the_same_headers(keypair) -> None:
    private_pem, _ = keypair
    assert _sign_post(private_pem, digest=digest_sha256(BODY)) == _sign_post(private_pem)


def test_private_key_as_object_or_pem_signs_the_same(keypair) -> None:
    private_pem, _ = keypair
    assert _sign_post(load_private_key(private_pem)) == _sign_post(private_pem)


def test_sign_request_host_keeps_non_default_port_only(keypair) -> None:
    private_pem, public_pem = keypair
    on_port = _sign_get(private_pem, "https://remote.example:8443/inbox")
    default_port = _sign_get(private_pem, "https://REMOTE.example:443/inbox")
    assert on_port["Host"] == "remote.example:8443"
    assert default_port["Host"] == "remote.example"
    _verify(on_port, public_pem, method="GET", body=None)


def test_sign_request_replaces_stale_managed_headers_without_mutating_input(keypair) -> None:
    private_pem, public_pem = keypair
    given = {"host": "stale.example", "DATE": "yesterday", "Accept": "application/activity+json"}
    snapshot = dict(given)
    signed = sign_request(
        "GET", INBOX, given, None, key_id=KEY_ID, private_key=private_pem, now=NOW
    )
    assert given == snapshot
    assert sorted(signed) == ["Accept", "Date", "Host", "Signature"]
    _verify(signed, public_pem, method="GET", body=None)


def test_sign_request_rejects_expires_with_rsa_sha256(keypair) -> None:
    with pytest.raises(ValueError, match="hs2019"):
        _sign_get(keypair[0], expires_in=60)


def test_sign_request_rejects_unknown_algorithm(keypair) -> None:
    with pytest.raises(ValueError, match="hmac-sha256"):
        _sign_get(keypair[0], algorithm="hmac-sha256")


def test_verify_accepts_aiohttp_style_multidict_headers(keypair) -> None:
    private_pem, public_pem = keypair
    signed = CIMultiDict(_sign_post(private_pem))
    _verify(signed, public_pem)


def test_signature_in_authorization_header_verifies(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem)
    signed["Authorization"] = "Signature " + signed.pop("Signature")
    _verify(signed, public_pem)


# --- tamper one thing ---------------------------------------------------------------------


def _assert_rejected(reason: str, headers, public_pem, **kwargs) -> None:
    with pytest.raises(SignatureError) as excinfo:
        _verify(headers, public_pem, **kwargs)
    assert _reason(excinfo) == reason


def test_tampered_method(keypair) -> None:
    private_pem, public_pem = keypair
    _assert_rejected("signature does not verify", _sign_post(private_pem), public_pem, method="PUT")


def test_tampered_path(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem)
    _assert_rejected("signature does not verify", signed, public_pem, target="/users/bob/inbox")


def test_tampered_query(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_get(private_pem, "https://remote.example/outbox?page=1")
    _assert_rejected(
        "signature does not verify",
        signed,
        public_pem,
        method="GET",
        target="/outbox?page=2",
        body=None,
    )


def test_tampered_host(keypair) -> None:
    private_pem, public_pem = keypair
    signed = {**_sign_post(private_pem), "Host": "other.example"}
    _assert_rejected("signature does not verify", signed, public_pem)


def test_tampered_date_value(keypair) -> None:
    private_pem, public_pem = keypair
    signed = {**_sign_post(private_pem), "Date": format_http_date(NOW + timedelta(minutes=1))}
    _assert_rejected("signature does not verify", signed, public_pem)


def test_date_older_than_12_hours(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem, now=NOW - timedelta(hours=12, seconds=1))
    _assert_rejected("Date is too old", signed, public_pem)


def test_date_just_inside_12_hours_is_accepted(keypair) -> None:
    private_pem, public_pem = keypair
    _verify(_sign_post(private_pem, now=NOW - timedelta(hours=11, minutes=59)), public_pem)


def test_date_more_than_1_hour_ahead(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem, now=NOW + timedelta(hours=1, seconds=1))
    _assert_rejected("Date is in the future", signed, public_pem)


def test_date_just_inside_1_hour_ahead_is_accepted(keypair) -> None:
    private_pem, public_pem = keypair
    _verify(_sign_post(private_pem, now=NOW + timedelta(minutes=59)), public_pem)


def test_body_changed(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem)
    _assert_rejected("digest does not match body", signed, public_pem, body=BODY + b" ")


def test_digest_header_missing(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem)
    del signed["Digest"]
    _assert_rejected("Digest header is missing", signed, public_pem)


def test_digest_not_covered_on_post(keypair) -> None:
    private_pem, public_pem = keypair
    headers = _post_headers()
    signed = _hand_signed(private_pem, ["(request-target)", "host", "date"], headers)
    _assert_rejected("signature does not cover digest", signed, public_pem)


def test_host_not_covered(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _hand_signed(private_pem, ["(request-target)", "date", "digest"], _post_headers())
    _assert_rejected("signature does not cover host", signed, public_pem)


def test_host_not_covered_on_get(keypair) -> None:
    private_pem, public_pem = keypair
    headers = {"Host": "remote.example", "Date": format_http_date(NOW)}
    signed = _hand_signed(private_pem, ["(request-target)", "date"], headers, method="GET")
    _assert_rejected("signature does not cover host", signed, public_pem, method="GET", body=None)


def test_request_target_not_covered(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _hand_signed(private_pem, ["host", "date", "digest"], _post_headers())
    _assert_rejected("signature does not cover (request-target)", signed, public_pem)


def test_neither_date_nor_created_covered(keypair) -> None:
    private_pem, public_pem = keypair
    headers = {"Host": "remote.example"}
    signed = _hand_signed(private_pem, ["(request-target)", "host"], headers, method="GET")
    _assert_rejected(
        "signature covers neither date nor (created)",
        signed,
        public_pem,
        method="GET",
        body=None,
    )


def test_covered_header_absent_from_request(keypair) -> None:
    private_pem, public_pem = keypair
    headers = {**_post_headers(), "Content-Type": "application/activity+json"}
    covered = ["(request-target)", "host", "date", "digest", "content-type"]
    signed = _hand_signed(private_pem, covered, headers)
    del signed["Content-Type"]
    _assert_rejected("signed header missing from request: content-type", signed, public_pem)


def test_signature_bytes_flipped(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem)
    b64 = _params(signed["Signature"])["signature"]
    raw = bytearray(base64.b64decode(b64))
    raw[len(raw) // 2] ^= 0x01
    signed["Signature"] = signed["Signature"].replace(b64, base64.b64encode(raw).decode())
    _assert_rejected("signature does not verify", signed, public_pem)


def test_wrong_key(keypair, other_keypair) -> None:
    private_pem, _ = keypair
    _, other_public_pem = other_keypair
    _assert_rejected("signature does not verify", _sign_post(private_pem), other_public_pem)


@pytest.mark.parametrize("algorithm", ["hmac-sha256", "rsa-sha512", "ecdsa-sha256"])
def test_unknown_algorithm(keypair, algorithm) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem)
    signed["Signature"] = signed["Signature"].replace('"rsa-sha256"', f'"{algorithm}"')
    _assert_rejected(
        f"unsupported signature algorithm {algorithm} (only rsa-sha256 and hs2019)",
        signed,
        public_pem,
    )


def test_non_rsa_key_is_refused(keypair) -> None:
    private_pem, _ = keypair
    ed_public = ed25519.Ed25519PrivateKey.generate().public_key()
    signed = _sign_post(private_pem)
    with pytest.raises(SignatureError) as excinfo:
        verify_request(
            "POST", TARGET, signed, signature_from_headers(signed), ed_public, now=NOW, body=BODY
        )
    assert _reason(excinfo) == "only RSA keys are supported"


def test_unusable_public_key_pem(keypair) -> None:
    _assert_rejected(
        "signer's public key is unusable", _sign_post(keypair[0]), "-----BEGIN PUBLIC KEY-----\nx"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('algorithm="rsa-sha256",headers="date",signature="AAAA"', "missing keyId"),
        ('keyId="k",algorithm="rsa-sha256",headers="date"', "missing signature"),
        ('keyId="k",signature=""', "missing signature"),
        ("this is not a signature header", "malformed signature header"),
        ('keyId="k" signature="AAAA"', "malformed signature header"),
        ('keyId="k",signature="AAAA', "malformed signature header"),
        ("", "empty"),
        ('keyId="k",keyId="j",signature="AAAA"', "duplicate keyId"),
        ('keyId="k",signature="not base64!"', "signature is not base64"),
        ('keyId="k",algorithm="hs2019",created=soon,signature="AAAA"', "created is not"),
        ('keyId="k",headers="",signature="AAAA"', "empty headers"),
    ],
)
def test_malformed_signature_header(value, reason) -> None:
    with pytest.raises(SignatureError) as excinfo:
        parse_signature_header(value)
    assert reason in _reason(excinfo)


def test_expires_in_the_past(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _sign_post(private_pem, algorithm="hs2019", expires_in=60)
    _assert_rejected("signature has expired", signed, public_pem, now=NOW + timedelta(seconds=61))


def test_created_in_the_future(keypair) -> None:
    private_pem, public_pem = keypair
    created = int((NOW + timedelta(hours=1, seconds=1)).timestamp())
    covered = ["(request-target)", "(created)", "host", "date", "digest"]
    signed = _hand_signed(
        private_pem, covered, _post_headers(), algorithm="hs2019", created=created
    )
    _assert_rejected("signature created in the future", signed, public_pem)


def test_created_older_than_12_hours(keypair) -> None:
    private_pem, public_pem = keypair
    created = int((NOW - timedelta(hours=12, seconds=1)).timestamp())
    covered = ["(request-target)", "(created)", "host"]
    signed = _hand_signed(
        private_pem,
        covered,
        {"Host": "remote.example"},
        method="GET",
        algorithm="hs2019",
        created=created,
    )
    _assert_rejected("signature is too old", signed, public_pem, method="GET", body=None)


def test_hs2019_get_covering_created_instead_of_date_is_accepted(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _hand_signed(
        private_pem,
        ["(request-target)", "(created)", "host"],
        {"Host": "remote.example"},
        method="GET",
        algorithm="hs2019",
        created=int(NOW.timestamp()),
    )
    _verify(signed, public_pem, method="GET", body=None)


def test_created_with_rsa_sha256_is_refused(keypair) -> None:
    private_pem, public_pem = keypair
    covered = ["(request-target)", "(created)", "host", "date", "digest"]
    signed = _hand_signed(private_pem, covered, _post_headers(), created=int(NOW.timestamp()))
    _assert_rejected("(created) is only allowed with hs2019", signed, public_pem)


def test_created_covered_but_parameter_missing(keypair) -> None:
    private_pem, public_pem = keypair
    signed = _hand_signed(
        private_pem,
        ["(request-target)", "(created)", "host", "date", "digest"],
        _post_headers(),
        algorithm="hs2019",
        created=int(NOW.timestamp()),
    )
    signed["Signature"] = re.sub(r"created=\d+,", "", signed["Signature"])
    _assert_rejected("(created) is signed but the created parameter is missing", signed, public_pem)


# --- parsing and signing-string details ----------------------------------------------------


def test_parse_defaults_follow_the_draft_and_mastodon() -> None:
    rsa = parse_signature_header('keyId="k",algorithm="RSA-SHA256",signature="AAAA"')
    assert (rsa.algorithm, rsa.headers) == ("rsa-sha256", ("date",))
    no_alg = parse_signature_header('keyId="k",signature="AAAA",created=1700000000')
    assert no_alg == ParsedSignature(
        key_id="k",
        algorithm="hs2019",
        headers=("(created)",),
        signature=b"\x00\x00\x00",
        created=1700000000,
        expires=None,
    )


def test_parse_tolerates_spaces_and_quoted_numbers() -> None:
    parsed = parse_signature_header(
        'Signature keyId="k", algorithm="hs2019" , created="1402170695",'
        ' expires=1402170699, headers="(request-target)  (created) HOST", signature="AAAA"'
    )
    assert parsed.headers == ("(request-target)", "(created)", "host")
    assert (parsed.created, parsed.expires) == (1402170695, 1402170699)


def test_whitespace_folded_into_the_signature_value_is_dropped() -> None:
    parsed = parse_signature_header('keyId="k",signature="AAAA\r\n BBBB\tCC\u2003CC"')
    assert parsed.signature == base64.b64decode("AAAABBBBCCCC")


def test_key_id_may_contain_commas_and_equals() -> None:
    parsed = parse_signature_header('keyId="https://a.example/u?x=1,2#k",signature="AAAA"')
    assert parsed.key_id == "https://a.example/u?x=1,2#k"


def test_signing_string_joins_repeated_headers_and_trims() -> None:
    headers = CIMultiDict([("X-Forwarded-For", " a "), ("x-forwarded-for", "b"), ("Empty", "")])
    text = signing_string(["x-forwarded-for", "empty"], "GET", "/", headers)
    assert text == "x-forwarded-for: a, b\nempty: "


def test_signing_string_header_lookup_is_case_insensitive_for_dicts() -> None:
    text = signing_string(["Host", "(request-target)"], "POST", "/x?y", {"HOST": "h.example"})
    assert text == "host: h.example\n(request-target): post /x?y"


def test_format_http_date_is_imf_fixdate_in_gmt() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_http_date(datetime(1994, 11, 6, 10, 49, 37, tzinfo=plus_two)) == (
        "Sun, 06 Nov 1994 08:49:37 GMT"
    )


def test_parse_http_date_accepts_the_three_http_formats() -> None:
    expected = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)
    for value in (
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ):
        assert parse_http_date(value) == expected


# --- Digest ------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_verify_digest_accepts_sha512_and_lists_case_insensitively() -> None:
    body = b"payload"
    sha256 = _b64(hashlib.sha256(body).digest())
    sha512 = _b64(hashlib.sha512(body).digest())
    verify_digest(f"sha-512={sha512}", body)
    verify_digest(f"MD5=abc, sha-256={sha256} ,SHA-512={sha512}", body)


def test_verify_digest_rejects_one_bad_value_among_good() -> None:
    body = b"payload"
    sha256 = _b64(hashlib.sha256(body).digest())
    wrong512 = _b64(hashlib.sha512(b"other").digest())
    with pytest.raises(SignatureError) as excinfo:
        verify_digest(f"SHA-256={sha256},SHA-512={wrong512}", body)
    assert _reason(excinfo) == "digest does not match body"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "Digest header is missing"),
        ("  ", "Digest header is missing"),
        ("MD5=Sd/dVLAcvNLSq16eXua5uQ==", "Digest header has no SHA-256 or SHA-512 value"),
        ("SHA-256=%%%", "digest is not valid base64"),
    ],
)
def test_verify_digest_failures(value, reason) -> None:
    with pytest.raises(SignatureError) as excinfo:
        verify_digest(value, b"payload")
    assert _reason(excinfo) == reason
