"""Key-encryption keys: the ring from the environment, and wrapping private keys at rest (PROTOCOL.md §5).

The ring is `{kekId: 32-byte AES key}` plus the current id (settings KEYHOUSE_KEK_RING and
KEYHOUSE_KEK_CURRENT; NetBox's API_TOKEN_PEPPERS + pepper_id pattern). New wraps use the
current KEK; every wrapped key records the kekId that wrapped it, so older KEKs keep
unwrapping until `manage.py rotate_kek` has rewrapped everything under the current one.

Wrapped form: `version(1) ‖ nonce(12) ‖ AES-256-GCM(ciphertext ‖ tag(16))`; the associated
data binds the blob to its key row, so a wrapped key copied onto another row (or relabelled
with another algorithm or purpose) does not unwrap:

    AD = "keyhouse/kek-wrap/v1" ‖ 0x0A ‖ JCS({"algorithm", "kekId", "keyId", "purpose"})

Pure apart from `kek_ring()`, which reads Django settings when called (never at import, so
config/settings.py can use the parsing and dev-key helpers below).
"""

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from apps.core.devsecrets import dev_secret_text
from apps.keys.canonical import jcs
from apps.keys.crypto import NONCE_BYTES, TAG_BYTES, SecretBytes, check_context

KEK_CONTEXT = "keyhouse/kek-wrap/v1"
KEK_BYTES = 32
WRAP_VERSION = 1
WRAP_OVERHEAD = 1 + NONCE_BYTES + TAG_BYTES
DEV_KEK_FILE = "kek-dev"


class KekError(Exception):
    """A wrapped key cannot be unwrapped: unknown kekId, or the blob does not open under it."""


class UnknownKek(KekError):
    """The kekId a key was wrapped with is not in the ring (removed too early?)."""


@dataclass(frozen=True, repr=False)
class KekRing:
    """Parsed KEKs by id and the id that wraps new keys. Its repr shows ids only."""

    keys: Mapping[int, SecretBytes]
    current_id: int

    def __repr__(self) -> str:
        return f"KekRing(ids={sorted(self.keys)}, current={self.current_id})"

    def key(self, kek_id: int) -> SecretBytes:
        try:
            return self.keys[kek_id]
        except KeyError:
            raise UnknownKek(f"kekId {kek_id} is not in KEYHOUSE_KEK_RING") from None


def parse_kek(text: str) -> SecretBytes:
    """Standard base64 (padded) of exactly 32 random bytes; ValueError otherwise."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid base64") from None
    if len(raw) != KEK_BYTES:
        raise ValueError(f"must decode to {KEK_BYTES} bytes, got {len(raw)}")
    return SecretBytes(raw)


def kek_ring_parse(ring: Mapping[int, str], current_id: int) -> KekRing:
    """Validate the settings' ring (`{id: base64 key}`) and current id; ValueError names the problem."""
    if not ring:
        raise ValueError("is empty")
    keys = {}
    for kek_id, text in ring.items():
        try:
            keys[int(kek_id)] = parse_kek(text)
        except ValueError as exc:
            raise ValueError(f"key {kek_id} {exc}") from None
    if current_id not in keys:
        raise ValueError(f"has no key with the current id {current_id} (KEYHOUSE_KEK_CURRENT)")
    return KekRing(keys=keys, current_id=current_id)


def kek_ring() -> KekRing:
    """The ring from Django settings (checked again here, so tests can override the settings)."""
    from django.conf import settings

    return kek_ring_parse(settings.KEYHOUSE_KEK_RING, settings.KEYHOUSE_KEK_CURRENT)


def associated_data(*, kek_id: int, key_id: str, purpose: str, algorithm: str) -> bytes:
    """The GCM associated data of one wrapped key (see the module docstring)."""
    binding = {"algorithm": algorithm, "kekId": int(kek_id), "keyId": str(key_id), "purpose": purpose}
    return check_context(KEK_CONTEXT) + b"\n" + jcs(binding)


def wrap(
    private: bytes,
    *,
    key_id: str,
    purpose: str,
    algorithm: str,
    ring: KekRing | None = None,
    _nonce: bytes | None = None,
) -> tuple[int, bytes]:
    """Encrypt private key bytes under the current KEK; returns (kekId, wrapped blob).

    `key_id` is the Key row's id (UUID text). `_nonce` is for the published vectors only.
    """
    ring = ring or kek_ring()
    kek_id = ring.current_id
    nonce = os.urandom(NONCE_BYTES) if _nonce is None else bytes(_nonce)
    if len(nonce) != NONCE_BYTES:
        raise ValueError(f"nonce must be {NONCE_BYTES} bytes")
    ad = associated_data(kek_id=kek_id, key_id=key_id, purpose=purpose, algorithm=algorithm)
    return kek_id, bytes([WRAP_VERSION]) + nonce + AESGCM(ring.key(kek_id)).encrypt(nonce, bytes(private), ad)


def unwrap(
    wrapped: bytes, *, kek_id: int, key_id: str, purpose: str, algorithm: str, ring: KekRing | None = None
) -> SecretBytes:
    """Decrypt a wrapped private key; KekError (UnknownKek) if it does not open under `kek_id`."""
    ring = ring or kek_ring()
    kek = ring.key(kek_id)
    wrapped = bytes(wrapped)
    if len(wrapped) < WRAP_OVERHEAD or wrapped[0] != WRAP_VERSION:
        raise KekError("wrapped key is truncated or of an unknown version")
    nonce, body = wrapped[1 : 1 + NONCE_BYTES], wrapped[1 + NONCE_BYTES :]
    ad = associated_data(kek_id=kek_id, key_id=key_id, purpose=purpose, algorithm=algorithm)
    try:
        return SecretBytes(AESGCM(kek).decrypt(nonce, body, ad))
    except InvalidTag:
        raise KekError(f"wrapped key does not open under kekId {kek_id} (tampered, or bound to another key)") from None


def dev_kek_text(var_dir: Path) -> str:
    """A development KEK (base64 of 32 random bytes), generated once into `var_dir` (mode 0600;
    apps.core.devsecrets, so runserver and its reloader agree). Deleting the file makes every
    server-held private key of the dev database unreadable.
    """
    return dev_secret_text(var_dir, DEV_KEK_FILE, size=KEK_BYTES)
