"""RSA key helpers: generate actor key pairs and load PEM keys (cached)."""

from __future__ import annotations

import functools

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

__all__ = [
    "KeyFormatError",
    "generate_rsa_keypair",
    "load_private_key",
    "load_public_key",
    "public_pem_of",
]

# Enough for every local actor plus the remote actors a busy inbox sees in a few hours;
# an evicted key only costs one re-parse.
_CACHE_SIZE = 4096


class KeyFormatError(ValueError):
    """A PEM string that is not a usable key."""


def generate_rsa_keypair(bits: int = 2048) -> tuple[str, str]:
    """Return a new (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM) pair."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")
    return private_pem, public_pem_of(key)


def public_pem_of(key: rsa.RSAPrivateKey | rsa.RSAPublicKey) -> str:
    """Return the SubjectPublicKeyInfo PEM of a key (what `publicKeyPem` carries)."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def _pem_bytes(pem: str, what: str) -> bytes:
    if not isinstance(pem, str):
        raise KeyFormatError(f"{what} must be a PEM string, not {type(pem).__name__}")
    text = pem.strip()
    if not text.startswith("-----BEGIN "):
        raise KeyFormatError(f"{what} is not PEM (no -----BEGIN line)")
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise KeyFormatError(f"{what} contains non-ASCII characters") from None


@functools.lru_cache(maxsize=_CACHE_SIZE)
def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    """Parse an unencrypted RSA private key PEM (PKCS#8 or PKCS#1); cached."""
    data = _pem_bytes(pem, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"private key PEM could not be parsed: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KeyFormatError(f"private key is {type(key).__name__}, only RSA is supported")
    return key


@functools.lru_cache(maxsize=_CACHE_SIZE)
def load_public_key(pem: str) -> PublicKeyTypes:
    """Parse a public key PEM (SubjectPublicKeyInfo or PKCS#1 RSA PUBLIC KEY); cached."""
    data = _pem_bytes(pem, "public key")
    if b"PRIVATE KEY-----" in data:
        # A private key where a public one belongs would be a key leak upstream; refuse it.
        raise KeyFormatError("expected a public key PEM, got a private key")
    try:
        # load_pem_public_key also reads "BEGIN RSA PUBLIC KEY" (PKCS#1), which some
        # servers put in publicKeyPem.
        return serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFormatError(f"public key PEM could not be parsed: {exc}") from None
