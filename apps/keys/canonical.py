"""The exact bytes Keyhouse signs, and the signed envelope (docs/PROTOCOL.md §3).

PURE: the standard library, `rfc8785`, crypto.py and apps/core/jsonlimits.py only, no Django.

- Canonical bytes: RFC 8785 (JSON Canonicalization Scheme, "JCS") of the payload, through
  Trail of Bits' `rfc8785` package (checked against the RFC's own examples in
  tests/keys/vectors/canonical.json). Keyhouse payloads follow a stricter *profile* so a lock
  can implement JCS in a few dozen lines: the payload is a JSON object, numbers are integers
  in ±(2^53−1), never fractions (times are integers or ISO-8601 strings), strings are valid
  Unicode.
- Signing input: `context ‖ 0x0A ‖ canonical(payload)`, where `context` names the message
  type and version ("keyhouse/lock-key-map/v1"). A signature made for one message type can
  never be replayed as another.
- Envelope: `{"payload": {...}, "signatures": {kid: base64url(Ed25519 signature)}}`. In the
  DoorLock API's `Signed…Output` responses, `data` is the payload and `signatures` sits beside
  it; the bytes signed are the same.
"""

import json
from collections.abc import Iterable, Mapping

import rfc8785

from apps.core import jsonlimits
from apps.keys import crypto
from apps.keys.crypto import ED25519, InvalidSignature

MAX_SAFE_INTEGER = 2**53 - 1

# Context strings of the signed message types (PROTOCOL.md §3.3). Reserved now so the names
# stay stable; the message formats themselves are specified in PROTOCOL.md §6–§9.
CONTEXT_LOCK_KEY_MAP = "keyhouse/lock-key-map/v1"
CONTEXT_LOCK_COMMAND = "keyhouse/lock-command/v1"
CONTEXT_LOCK_SYNC_REQUEST = "keyhouse/lock-sync-request/v1"
CONTEXT_LOCK_SYNC_RESPONSE = "keyhouse/lock-sync-response/v1"
CONTEXT_LOCK_ACK = "keyhouse/lock-ack/v1"
CONTEXT_DEVICE_SYNC_REQUEST = "keyhouse/device-sync-request/v1"
CONTEXT_DEVICE_SYNC_RESPONSE = "keyhouse/device-sync-response/v1"
CONTEXT_UNLOCK_PROOF = "keyhouse/unlock-proof/v1"
# Sealing (HKDF info) contexts.
CONTEXT_SEAL_USER_ACCESS_MAP = "keyhouse/user-access-map/v1"
CONTEXT_SEAL_ACCESS_LOGS = "keyhouse/access-logs/v1"
CONTEXTS = (
    CONTEXT_LOCK_KEY_MAP,
    CONTEXT_LOCK_COMMAND,
    CONTEXT_LOCK_SYNC_REQUEST,
    CONTEXT_LOCK_SYNC_RESPONSE,
    CONTEXT_LOCK_ACK,
    CONTEXT_DEVICE_SYNC_REQUEST,
    CONTEXT_DEVICE_SYNC_RESPONSE,
    CONTEXT_UNLOCK_PROOF,
    CONTEXT_SEAL_USER_ACCESS_MAP,
    CONTEXT_SEAL_ACCESS_LOGS,
)


class CanonicalError(ValueError):
    """A value that has no canonical form, or falls outside the Keyhouse profile. `member`
    names the object member at fault when there is one (a duplicate, a fraction)."""

    def __init__(self, reason: str, *, member: str | None = None):
        super().__init__(f"{member}: {reason}" if member else reason)
        self.reason, self.member = reason, member


class MalformedMessage(InvalidSignature):
    """A signed envelope of the wrong shape: it cannot verify, whatever its signatures."""


def _walk(value) -> tuple[bool, bool]:
    """(within the Keyhouse profile, plain) in one pass without building paths: `canonical`
    calls it on every payload, a key map of 10,000 entries among them.

    Plain: `json.dumps(sort_keys, no spaces, raw UTF-8)` writes exactly RFC 8785's bytes:
    no fractions (JCS prints them the ECMAScript way), integers in ±(2^53−1), objects that are
    dicts with ASCII keys (so code-point order is UTF-16 order), lists, tuples, strings, bools,
    null. Strings need nothing: both escape `"`, `\\`, and U+0000–U+001F alike (short forms
    for \\b \\f \\n \\r \\t, else lowercase \\u00xx) and write the rest as UTF-8."""
    plain = True
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False, False
                if not key.isascii():
                    plain = False
            extend(item.values())
        elif kind is list or kind is tuple:
            extend(item)
        elif kind is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False, False
        elif isinstance(item, bool | str):
            continue
        elif isinstance(item, int):
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False, False
            plain = False
        elif isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return False, False
            plain = False
            extend(item.values())
        elif isinstance(item, list | tuple):
            plain = False
            extend(item)
        elif isinstance(item, float):
            return False, False  # outside the profile; plain JCS (`jcs`) still takes it
        else:
            return False, False
    return True, plain


def _plain(value) -> bool:
    """True when the C encoder writes RFC 8785's bytes for `value` (see `_walk`)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, str | bool):
            continue
        if isinstance(item, int):
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str) or not key.isascii():
                    return False
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        else:
            return False
    return True


def _dumps(value, plain: bool) -> bytes:
    if plain:
        try:
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 refuses it below
            pass
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise CanonicalError(str(exc)) from None
    except (TypeError, ValueError) as exc:  # a type JSON does not have (bytes, set, datetime, ...)
        raise CanonicalError(f"not a JSON value: {exc}") from None


def jcs(value) -> bytes:
    """RFC 8785 canonical bytes of any JSON value (fractions allowed: this is plain JCS).

    The plain JSON signed payloads are made of (see `_plain`) goes through the standard
    library's C encoder, which writes the same bytes several times faster than `rfc8785` (a
    key map of 10,000 entries: about 0.25 s in `rfc8785`); anything else, and any string that is
    not valid Unicode, through `rfc8785`. tests/keys/test_canonical.py checks both agree."""
    in_profile, plain = _walk(value)
    return _dumps(value, plain if in_profile else _plain(value))


def _check_profile(value, path: str) -> None:
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalError(f"{path}: integer outside ±(2^53−1)")
        return
    if isinstance(value, float):
        raise CanonicalError(f"{path}: fractions are not allowed in signed payloads (use integers or strings)")
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_profile(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(f"{path}: object keys must be strings")
            _check_profile(item, f"{path}.{key}")
        return
    raise CanonicalError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical(payload: Mapping) -> bytes:
    """The canonical bytes of a signed payload: JCS, after checking the Keyhouse profile."""
    if not isinstance(payload, dict):
        raise CanonicalError("a signed payload is a JSON object")
    in_profile, plain = _walk(payload)
    if not in_profile:
        _check_profile(payload, "$")  # says where; raises for every value `_walk` refuses
    return _dumps(payload, plain)


def signing_input(payload: Mapping, context: str, *, canonical_bytes: bytes | None = None) -> bytes:
    """`context ‖ "\\n" ‖ canonical(payload)`: exactly what each Ed25519 signature covers.
    `canonical_bytes`: `canonical(payload)` when the caller already made it (a key map's
    digest and signatures cover the same bytes: serialized once)."""
    return crypto.check_context(context) + b"\n" + (canonical(payload) if canonical_bytes is None else canonical_bytes)


def sign_payload(
    payload: Mapping, context: str, signers: Iterable[bytes], *, canonical_bytes: bytes | None = None
) -> dict[str, str]:
    """The `signatures` map of `payload`: {kid: base64url(signature)} for each Ed25519 private key."""
    data = signing_input(payload, context, canonical_bytes=canonical_bytes)
    signatures: dict[str, str] = {}
    for private in signers:
        kid = crypto.key_id(ED25519, crypto.public_key(ED25519, private))
        signatures[kid] = crypto.b64url_encode(crypto.sign(private, data))
    if not signatures:
        raise ValueError("sign_payload needs at least one signer")
    return signatures


def sign_message(payload: Mapping, context: str, signers: Iterable[bytes]) -> dict:
    """The signed envelope `{"payload": payload, "signatures": {kid: sig}}`."""
    return {"payload": payload, "signatures": sign_payload(payload, context, signers)}


def verify_signatures(payload: Mapping, signatures: Mapping, context: str, public_keys: Iterable[bytes]) -> list[str]:
    """Check a `signatures` map against the trusted Ed25519 public keys; return the kids that verified.

    Rule (PROTOCOL.md §3.4): at least one trusted key must have signed, and every signature
    under a trusted kid must verify (a bad signature is never outvoted by a good one).
    Signatures under kids the verifier does not trust are ignored: that is what lets a
    signer add its next key before every verifier knows it.
    """
    if not isinstance(signatures, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in signatures.items()
    ):
        raise MalformedMessage("signatures must be an object of kid → base64url strings")
    try:
        data = signing_input(payload, context)
    except CanonicalError as exc:
        raise MalformedMessage(f"payload has no canonical form: {exc}") from None
    trusted = {crypto.key_id(ED25519, public): public for public in public_keys}
    verified = []
    for kid, encoded in signatures.items():
        public = trusted.get(kid)
        if public is None:
            continue
        try:
            signature = crypto.b64url_decode(encoded)
        except ValueError:
            raise MalformedMessage(f"signature of {kid} is not base64url") from None
        crypto.verify(public, data, signature)  # raises InvalidSignature
        verified.append(kid)
    if not verified:
        raise InvalidSignature("no signature by a trusted key")
    return verified


def verify_message(message: Mapping, context: str, public_keys: Iterable[bytes]) -> dict:
    """Verify a signed envelope and return its payload; InvalidSignature (or MalformedMessage) otherwise."""
    if not isinstance(message, dict) or set(message) != {"payload", "signatures"}:
        raise MalformedMessage('a signed message is exactly {"payload": {...}, "signatures": {...}}')
    verify_signatures(message["payload"], message["signatures"], context, public_keys)
    return message["payload"]


def _reject_constant(name: str):
    raise CanonicalError(f"{name} is not JSON")


class _Fraction(str):
    """A number written with a fraction or exponent, kept as its text until the object that
    holds it can refuse it by the member's name (§3.1, §6.4)."""


def _fraction_in(value) -> "_Fraction | None":
    if isinstance(value, _Fraction):
        return value
    if isinstance(value, list):
        return next((found for item in value if (found := _fraction_in(item)) is not None), None)
    return None


def _refuse_fraction(fraction: "_Fraction", member: str | None = None):
    raise CanonicalError(f"{fraction}: fractions are not allowed in signed payloads", member=member)


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    result = {}
    for key, value in pairs:
        if key in result:
            raise CanonicalError("duplicate member", member=key)
        fraction = _fraction_in(value)
        if fraction is not None:
            _refuse_fraction(fraction, key)
        result[key] = value
    return result


def loads(text: str | bytes):
    """Parse JSON received from a lock or phone the strict way: duplicate keys, NaN/Infinity
    and fractions are refused (two parsers must never disagree on what was signed), and so is
    text nested deeper than 32 levels or with a number of more than 20 digits (jsonlimits)."""
    try:
        if isinstance(text, bytes | bytearray):
            text = text.decode(json.detect_encoding(text), "surrogatepass")  # as json.loads does
        jsonlimits.check(text)
        value = json.loads(
            text,
            object_pairs_hook=_object_without_duplicates,
            parse_float=_Fraction,
            parse_constant=_reject_constant,
        )
    except jsonlimits.JsonLimitError as exc:
        raise CanonicalError(str(exc)) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CanonicalError(f"not JSON: {exc}") from None
    fraction = _fraction_in(value)  # outside any object: a bare number or an array of them
    if fraction is not None:
        _refuse_fraction(fraction)
    return value
