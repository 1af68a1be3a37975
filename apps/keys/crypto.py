"""Device-protocol cryptography: Ed25519 signatures, X25519 sealing, key ids (docs/PROTOCOL.md §2–§4).

PURE: the standard library, `cryptography` and PyNaCl (libsodium's point check) only, no
Django, so the published test vectors (tests/keys/vectors/) can be checked without a database
and this module reads like the spec.

- Signatures: Ed25519 (RFC 8032), raw 32-byte keys, 64-byte signatures.
- Public keys: only canonical points of the prime-order subgroup; small-order, non-canonical,
  off-curve (twist) and mixed-order points are refused wherever a key enters and at use
  (`check_public_key`, PROTOCOL.md §2.4).
- Sealing (one-shot public-key encryption to a recipient's X25519 key):
  ephemeral X25519 (RFC 7748) → HKDF-SHA256 (RFC 5869) → AES-256-GCM, laid out as
  `version(1) ‖ ephemeral public key(32) ‖ nonce(12) ‖ ciphertext ‖ tag(16)`.
- Key ids (`kid`): base64url, unpadded, of the first 16 bytes of
  SHA-256(algorithm name ‖ 0x00 ‖ raw public key): 22 characters, computable by anyone
  holding the public key, and different for an Ed25519 and an X25519 key with equal bytes.

Every failure to verify or open raises one of the exceptions below; callers never see a
`cryptography` exception or a bare `False`.
"""

import base64
import binascii
import functools
import hashlib
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature as _CryptographyInvalidSignature
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from nacl.bindings import crypto_core_ed25519_is_valid_point

ED25519 = "Ed25519"
X25519 = "X25519"
ALGORITHMS = (ED25519, X25519)

KEY_BYTES = 32
SIGNATURE_BYTES = 64
NONCE_BYTES = 12
TAG_BYTES = 16
KID_BYTES = 16

SEAL_VERSION = 1
SEAL_HEADER_BYTES = 1 + KEY_BYTES + NONCE_BYTES  # version ‖ ephemeral public key ‖ nonce
SEAL_OVERHEAD = SEAL_HEADER_BYTES + TAG_BYTES  # 61 bytes on top of the plaintext

# Context strings (signature domains, HKDF info, KEK associated data): `keyhouse/<name>/v<n>`.
CONTEXT_PATTERN = re.compile(r"keyhouse/[a-z0-9][a-z0-9-]*/v[1-9][0-9]*")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


class CryptoError(Exception):
    """Base of every error this module raises."""


class KeyFormatError(CryptoError, ValueError):
    """Key material of the wrong length or encoding, or an unknown algorithm."""


class WeakKeyError(KeyFormatError):
    """A 32-byte public key that is not a safe point: small order, non-canonical, not on the
    curve, or outside the prime-order subgroup (PROTOCOL.md §2.4)."""


class InvalidSignature(CryptoError):
    """A signature does not verify (or a signed message is malformed, see canonical.py)."""


class SealError(CryptoError):
    """A sealed blob cannot be opened: tampered, truncated, wrong recipient, info or associated data."""


class SecretBytes(bytes):
    """Private key bytes whose repr/str never show the value (logs, tracebacks, test output).

    It is still `bytes`: pass it to any function that needs the key. Use `.hex()` or slicing
    only where the value really has to leave the process (nowhere in Keyhouse today).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<secret: {len(self)} bytes>"

    __str__ = __repr__


@dataclass(frozen=True, repr=False)
class KeyPair:
    """A freshly generated key pair; `private` is SecretBytes, so printing the pair is safe."""

    algorithm: str
    private: SecretBytes
    public: bytes

    @property
    def kid(self) -> str:
        return key_id(self.algorithm, self.public)

    def __repr__(self) -> str:
        return f"KeyPair({self.algorithm}, kid={self.kid})"


# --- encodings -----------------------------------------------------------------------------
def b64url_encode(raw: bytes) -> str:
    """base64url (RFC 4648 §5) without padding: how every binary field travels in JSON."""
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict inverse of b64url_encode: no padding, no other alphabet, only the canonical form."""
    if not isinstance(text, str) or not _B64URL.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not unpadded base64url") from None
    if b64url_encode(raw) != text:  # non-zero trailing bits: a second spelling of the same bytes
        raise ValueError("not the canonical base64url spelling")
    return raw


def check_context(context: str) -> bytes:
    """The ASCII bytes of a context string, after checking its `keyhouse/<name>/v<n>` shape."""
    if not isinstance(context, str) or not CONTEXT_PATTERN.fullmatch(context):
        raise ValueError(f"context {context!r} must look like 'keyhouse/<name>/v<n>'")
    return context.encode("ascii")


# --- keys ----------------------------------------------------------------------------------
def _check_algorithm(algorithm: str) -> None:
    if algorithm not in ALGORITHMS:
        raise KeyFormatError(f"unknown algorithm {algorithm!r} (use {' or '.join(ALGORITHMS)})")


def _check_length(what: str, raw: bytes, length: int) -> None:
    if not isinstance(raw, bytes | bytearray | memoryview) or len(raw) != length:
        size = len(raw) if isinstance(raw, bytes | bytearray | memoryview) else type(raw).__name__
        raise KeyFormatError(f"{what} must be {length} bytes, got {size}")


def key_id(algorithm: str, public: bytes) -> str:
    """The protocol key id (`kid`) of a raw public key, as used in every `signatures` map."""
    _check_algorithm(algorithm)
    _check_length("public key", public, KEY_BYTES)
    digest = hashlib.sha256(algorithm.encode("ascii") + b"\x00" + bytes(public)).digest()
    return b64url_encode(digest[:KID_BYTES])


def _raw_private(key) -> SecretBytes:
    return SecretBytes(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))


def _raw_public(key) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def generate(algorithm: str) -> KeyPair:
    """A new random key pair: Ed25519 for SIGN_VERIFY keys, X25519 for ENCRYPT_DECRYPT keys."""
    _check_algorithm(algorithm)
    private = Ed25519PrivateKey.generate() if algorithm == ED25519 else X25519PrivateKey.generate()
    return KeyPair(algorithm=algorithm, private=_raw_private(private), public=_raw_public(private.public_key()))


def public_key(algorithm: str, private: bytes) -> bytes:
    """The raw public key of a raw 32-byte private key (Ed25519 seed or X25519 scalar)."""
    _check_algorithm(algorithm)
    _check_length("private key", private, KEY_BYTES)
    cls = Ed25519PrivateKey if algorithm == ED25519 else X25519PrivateKey
    return _raw_public(cls.from_private_bytes(bytes(private)).public_key())


_P = 2**255 - 19  # the field prime of Curve25519 / edwards25519


@functools.lru_cache(maxsize=4096)
def _safe_point(algorithm: str, public: bytes) -> bool:
    """True if `public` is the canonical encoding of a point of the prime-order subgroup.

    Ed25519 (RFC 8032 §5.1.3): libsodium's crypto_core_ed25519_is_valid_point refuses y >= p
    (including "negative zero", x = 0 with the sign bit set), points not on the curve, the
    small-order points and points outside the prime-order subgroup. Without this check a
    small-order key (e.g. 32 zero bytes) "verifies" a forged signature (64 zero bytes) for
    about one message in four under cofactorless verification.
    X25519 (RFC 7748 §5): u must be canonical (top bit clear, u < p). u = p - 1 (order 4, on
    the twist) has no Edwards image and is refused here; any other u maps to the edwards25519
    y = (u - 1) / (u + 1) (RFC 7748 §4.1), and the same check refuses the other small-order u,
    u on the twist (no x for that y) and mixed-order u.
    Cached: verify() checks the signer's key on every sync (about 30 µs uncached).
    """
    if algorithm == X25519:
        u = int.from_bytes(public, "little")
        if u >= _P or u == _P - 1:
            return False
        y = (u - 1) * pow(u + 1, -1, _P) % _P
        public = y.to_bytes(KEY_BYTES, "little")
    return crypto_core_ed25519_is_valid_point(public)


def check_public_key(algorithm: str, public: bytes) -> bytes:
    """Raise KeyFormatError unless `public` is a usable raw public key of `algorithm`:
    32 bytes, and a safe point (WeakKeyError otherwise, PROTOCOL.md §2.4)."""
    _check_algorithm(algorithm)
    _check_length("public key", public, KEY_BYTES)
    public = bytes(public)
    if not _safe_point(algorithm, public):
        raise WeakKeyError(
            "a weak point: small order, non-canonical, not on the curve or outside the "
            "prime-order subgroup (PROTOCOL.md §2.4)"
        )
    return public


# --- signatures ----------------------------------------------------------------------------
def sign(private: bytes, message: bytes) -> bytes:
    """Ed25519 signature (64 bytes) of `message` with a raw 32-byte private key (seed)."""
    _check_length("Ed25519 private key", private, KEY_BYTES)
    return Ed25519PrivateKey.from_private_bytes(bytes(private)).sign(bytes(message))


def verify(public: bytes, message: bytes, signature: bytes) -> None:
    """Return if `signature` is a valid Ed25519 signature of `message`; raise InvalidSignature otherwise."""
    if not isinstance(signature, bytes | bytearray) or len(signature) != SIGNATURE_BYTES:
        raise InvalidSignature(f"a signature is {SIGNATURE_BYTES} bytes")
    try:
        Ed25519PublicKey.from_public_bytes(check_public_key(ED25519, public)).verify(bytes(signature), bytes(message))
    except _CryptographyInvalidSignature:
        raise InvalidSignature("signature does not verify") from None
    except KeyFormatError as exc:
        raise InvalidSignature(str(exc)) from None


# --- sealing -------------------------------------------------------------------------------
def _seal_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes, info: bytes) -> bytes:
    """HKDF-SHA256: IKM = X25519 shared secret, salt = ephemeral ‖ recipient public key, 32 bytes out."""
    if shared == bytes(KEY_BYTES):  # a low-order point: no secret at all
        raise SealError("X25519 produced the all-zero shared secret")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_public + recipient_public, info=info)
    return hkdf.derive(shared)


def seal(
    recipient_public: bytes,
    plaintext: bytes,
    *,
    info: str,
    aad: bytes = b"",
    _ephemeral_private: bytes | None = None,
    _nonce: bytes | None = None,
) -> bytes:
    """Encrypt `plaintext` so only the holder of the X25519 private key can read it.

    `info` names the purpose (a context string, e.g. "keyhouse/user-access-map/v1") and goes
    into HKDF; `aad` is authenticated but not encrypted (e.g. the recipient's ids and the
    map version) and must be given again to open. `_ephemeral_private` and `_nonce` exist
    for the published test vectors only: production code never passes them.
    """
    info_bytes = check_context(info)
    try:
        recipient = X25519PublicKey.from_public_bytes(check_public_key(X25519, recipient_public))
    except WeakKeyError as exc:
        raise SealError(f"cannot seal to this recipient: {exc}") from None
    if _ephemeral_private is None:
        ephemeral = X25519PrivateKey.generate()
    else:
        _check_length("ephemeral private key", _ephemeral_private, KEY_BYTES)
        ephemeral = X25519PrivateKey.from_private_bytes(bytes(_ephemeral_private))
    nonce = os.urandom(NONCE_BYTES) if _nonce is None else bytes(_nonce)
    _check_length("nonce", nonce, NONCE_BYTES)
    ephemeral_public = _raw_public(ephemeral.public_key())
    try:
        shared = ephemeral.exchange(recipient)
    except ValueError:
        raise SealError("X25519 exchange failed (low-order recipient key)") from None
    key = _seal_key(shared, ephemeral_public, bytes(recipient_public), info_bytes)
    ciphertext = AESGCM(key).encrypt(nonce, bytes(plaintext), bytes(aad))
    return bytes([SEAL_VERSION]) + ephemeral_public + nonce + ciphertext


def unseal(recipient_private: bytes, sealed: bytes, *, info: str, aad: bytes = b"") -> bytes:
    """Open a blob made by `seal` with the recipient's X25519 private key; SealError on any mismatch."""
    info_bytes = check_context(info)
    sealed = bytes(sealed)
    if len(sealed) < SEAL_OVERHEAD:
        raise SealError(f"sealed blob too short ({len(sealed)} bytes, at least {SEAL_OVERHEAD})")
    if sealed[0] != SEAL_VERSION:
        raise SealError(f"unknown sealed-blob version {sealed[0]}")
    ephemeral_public = sealed[1 : 1 + KEY_BYTES]
    nonce = sealed[1 + KEY_BYTES : SEAL_HEADER_BYTES]
    _check_length("X25519 private key", recipient_private, KEY_BYTES)
    recipient = X25519PrivateKey.from_private_bytes(bytes(recipient_private))
    recipient_public = _raw_public(recipient.public_key())
    try:
        shared = recipient.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    except ValueError:
        raise SealError("X25519 exchange failed (low-order ephemeral key)") from None
    key = _seal_key(shared, ephemeral_public, recipient_public, info_bytes)
    try:
        return AESGCM(key).decrypt(nonce, sealed[SEAL_HEADER_BYTES:], bytes(aad))
    except InvalidTag:
        raise SealError("sealed blob does not open: tampered, or wrong recipient, info or associated data") from None
