"""RSA key helpers: generation, PEM loading, caching and junk rejection."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.keys import (
    KeyFormatError,
    generate_rsa_keypair,
    load_private_key,
    load_public_key,
    public_pem_of,
)
from tests.federation import vectors as v


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    return generate_rsa_keypair()


def test_generated_pair_is_pkcs8_and_spki_pem(keypair) -> None:
    private_pem, public_pem = keypair
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----\n")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----\n")
    key = load_private_key(private_pem)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    assert key.public_key().public_numbers().e == 65537


def test_generated_pair_signs_and_verifies(keypair) -> None:
    private_pem, public_pem = keypair
    message = b"(request-target): post /inbox"
    signature = load_private_key(private_pem).sign(message, padding.PKCS1v15(), hashes.SHA256())
    public = load_public_key(public_pem)
    public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        public.verify(signature, message + b"!", padding.PKCS1v15(), hashes.SHA256())


def test_two_generated_pairs_differ() -> None:
    assert generate_rsa_keypair(bits=1024) != generate_rsa_keypair(bits=1024)


def test_bits_are_honoured() -> None:
    private_pem, _ = generate_rsa_keypair(bits=3072)
    assert load_private_key(private_pem).key_size == 3072


def test_public_pem_matches_private_key(keypair) -> None:
    private_pem, public_pem = keypair
    assert public_pem_of(load_private_key(private_pem)) == public_pem
    assert public_pem_of(load_public_key(public_pem)) == public_pem


def test_loaders_are_cached(keypair) -> None:
    private_pem, public_pem = keypair
    assert load_private_key(private_pem) is load_private_key(private_pem)
    assert load_public_key(public_pem) is load_public_key(public_pem)
    hits = load_public_key.cache_info().hits
    load_public_key(public_pem)
    assert load_public_key.cache_info().hits == hits + 1


def test_pkcs1_rsa_private_key_is_accepted() -> None:
    key = load_private_key(v.MASTODON_PRIVATE_KEY_PEM)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048


def test_pkcs1_rsa_public_key_is_accepted() -> None:
    spki = load_public_key(v.CAVAGE_PUBLIC_KEY_PEM)
    pkcs1_pem = spki.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
    ).decode()
    assert pkcs1_pem.startswith("-----BEGIN RSA PUBLIC KEY-----")
    loaded = load_public_key(pkcs1_pem)
    assert isinstance(loaded, rsa.RSAPublicKey)
    assert loaded.public_numbers() == spki.public_numbers()


def test_surrounding_whitespace_is_tolerated(keypair) -> None:
    _, public_pem = keypair
    assert load_public_key("\n  " + public_pem + "\n\n").public_numbers() == (
        load_public_key(public_pem).public_numbers()
    )


@pytest.mark.parametrize(
    "junk",
    [
        "",
        "not a key",
        "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n",
        "-----BEGIN PUBLIC KEY-----\n"
        + base64.b64encode(b"x" * 40).decode()
        + "\n-----END PUBLIC KEY-----\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN PUBLIC KEY-----\nMIGfMA0G\u00e9\n-----END PUBLIC KEY-----\n",
    ],
)
def test_junk_public_key_raises_key_format_error(junk) -> None:
    with pytest.raises(KeyFormatError):
        load_public_key(junk)


def test_key_format_error_is_a_value_error_with_a_message() -> None:
    with pytest.raises(ValueError, match="not PEM"):
        load_public_key("ssh-rsa AAAAB3NzaC1yc2E")


def test_private_key_given_as_public_key_is_refused(keypair) -> None:
    private_pem, _ = keypair
    with pytest.raises(KeyFormatError, match="private key"):
        load_public_key(private_pem)


def test_junk_private_key_raises_key_format_error() -> None:
    with pytest.raises(KeyFormatError):
        load_private_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")


def test_non_rsa_private_key_is_refused() -> None:
    ed_pem = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
    with pytest.raises(KeyFormatError, match="only RSA"):
        load_private_key(ed_pem)


def test_non_string_is_refused() -> None:
    with pytest.raises(KeyFormatError, match="PEM string"):
        load_public_key(b"-----BEGIN PUBLIC KEY-----")  # type: ignore[arg-type]
