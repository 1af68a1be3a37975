"""Firmware manifests: canonical bytes and their Ed25519 signature (docs/FIRMWARE.md).

PURE: standard library and `cryptography` only, no Django, so the documented test vector
can be checked on its own and this module can move to the keys app unchanged.

A manifest is `{"sha256": <64 lowercase hex>, "size": <int>, "version": <str>}`; its
canonical bytes are that JSON object with the keys sorted, no whitespace, UTF-8. The
signature is Ed25519 (RFC 8032) over exactly those bytes.
"""

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from apps.core.devsecrets import dev_secret_text

ALGORITHM = "Ed25519"
DEV_KEY_FILE = "firmware-signing-key"


@dataclass(frozen=True)
class SigningKey:
    """A firmware signing key: its id (recorded beside every signature) and raw private bytes."""

    key_id: str
    private: bytes

    @property
    def public(self) -> bytes:
        return public_key(self.private)


def manifest_bytes(*, version: str, sha256: str, size: int) -> bytes:
    """The canonical bytes of a manifest: sorted keys, no whitespace, UTF-8."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ValueError("size must be a non-negative integer")
    if len(sha256) != 64 or sha256 != sha256.lower() or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("sha256 must be 64 lowercase hex characters")
    document = {"sha256": sha256, "size": size, "version": version}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def public_key(private: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key of a raw 32-byte private key."""
    key = Ed25519PrivateKey.from_private_bytes(private).public_key()
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id_for(public: bytes) -> str:
    """Default key id: the first 16 hex characters of SHA-256 over the raw public key."""
    return hashlib.sha256(public).hexdigest()[:16]


def sign(private: bytes, message: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private).sign(message)


def verify(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def manifest_sign(key: SigningKey, *, version: str, sha256: str, size: int) -> str:
    """Base64 (standard, padded) Ed25519 signature of the manifest's canonical bytes."""
    return b64encode(sign(key.private, manifest_bytes(version=version, sha256=sha256, size=size)))


def b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def parse_private_key(text: str) -> bytes:
    """Base64 of the raw 32-byte Ed25519 private key (seed); ValueError otherwise."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    if len(raw) != 32:
        raise ValueError(f"must decode to 32 bytes, got {len(raw)}")
    return raw


def dev_key_text(var_dir: Path) -> str:
    """A development signing key (base64 of a 32-byte seed), generated once and kept in
    `var_dir` (mode 0600; apps.core.devsecrets)."""
    return dev_secret_text(var_dir, DEV_KEY_FILE, size=32)
