"""Builds tests/keys/vectors/weak_keys.json (docs/PROTOCOL.md §2.4) from fixed inputs.

    python -m tests.keys.make_vectors     # rewrite the file (only with a context-version bump)

The refused keys are the well-known small-order points, the non-canonical spellings, a point
off the curve (on the twist) and a point of mixed order; the refused signatures are ones a
verifier that skips §2.4 would accept. Every value follows from the RFCs' arithmetic
(tests/keys/points.py); test_vectors.py checks the stored file against this builder, each
reason against points.py, and each refusal against apps.keys.crypto.
"""

import hashlib
from pathlib import Path

from apps.keys import crypto
from tests.keys import points as pt
from tests.vectors import text as text  # test_vectors.py compares the file with make_vectors.text
from tests.vectors import write

VECTORS = Path(__file__).parent / "vectors"

RFC8032_TEST1_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC8032_TEST1_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
RFC7748_ALICE_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
RFC7748_BOB_PUBLIC = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")


def _le(n: int) -> bytes:
    return n.to_bytes(32, "little")


def _key(name: str, algorithm: str, raw: bytes, note: str) -> dict:
    reason = (pt.ed25519_reason if algorithm == crypto.ED25519 else pt.x25519_reason)(raw)
    return {
        "name": name,
        "algorithm": algorithm,
        "publicKeyHex": raw.hex(),
        "publicKey": crypto.b64url_encode(raw),
        "reason": reason,
        "note": note,
    }


def _first_y(predicate) -> int:
    return next(y for y in range(2, 1000) if predicate(y))


def refused_keys() -> list[dict]:
    t = pt.torsion()  # t[k] = k·T, T of order 8
    b = pt.BASE
    on_curve_y = _first_y(lambda y: pt.decode(_le(y))[1] is None)  # y < 19: p + y still fits in 255 bits
    off_curve_y = _first_y(lambda y: pt.decode(_le(y))[1] == pt.NOT_ON_CURVE)
    twist_u = _first_y(lambda u: pt.x25519_reason(_le(u)) == pt.NOT_ON_CURVE)
    alice_top_bit = RFC7748_ALICE_PUBLIC[:31] + bytes([RFC7748_ALICE_PUBLIC[31] | 0x80])
    ed, x = crypto.ED25519, crypto.X25519
    return [
        _key("ed25519-zero", ed, bytes(32), "32 zero bytes: y = 0, a point of order 4 (the key of issue 20)"),
        _key("ed25519-identity", ed, pt.encode(t[0]), "y = 1: the neutral element, order 1"),
        _key("ed25519-order-2", ed, pt.encode(t[4]), "y = p - 1: order 2"),
        _key("ed25519-order-4", ed, pt.encode(t[2]), "y = 0 with the sign bit: the other point of order 4"),
        *(_key(f"ed25519-order-8-{k}", ed, pt.encode(t[k]), "order 8") for k in (1, 3, 5, 7)),
        _key("ed25519-negative-zero-identity", ed, _le(1 | 1 << 255), "y = 1 with the sign bit: x = 0 has no sign"),
        _key("ed25519-negative-zero-order-2", ed, _le(pt.P - 1 | 1 << 255), "y = p - 1 with the sign bit"),
        _key("ed25519-y-is-p", ed, _le(pt.P), "y = p, a second spelling of y = 0"),
        _key("ed25519-y-is-p-plus-1", ed, _le(pt.P + 1), "y = p + 1, a second spelling of the identity"),
        _key(
            "ed25519-y-above-p",
            ed,
            _le(pt.P + on_curve_y),
            f"y = p + {on_curve_y}, a second spelling of y = {on_curve_y}, a point on the curve",
        ),
        _key("ed25519-all-ones", ed, b"\xff" * 32, "y = 2^255 - 1 with the sign bit"),
        _key("ed25519-off-curve", ed, _le(off_curve_y), f"y = {off_curve_y}: no x satisfies the curve equation"),
        _key("ed25519-base-plus-order-8", ed, pt.encode(pt.point_add(b, t[1])), "B + T: mixed order (8·L)"),
        _key(
            "ed25519-rfc8032-key-plus-order-2",
            ed,
            pt.encode(pt.point_add(pt.decode(RFC8032_TEST1_PUBLIC)[0], t[4])),
            "the RFC 8032 §7.1 test 1 key plus the point of order 2: mixed order (2·L)",
        ),
        _key("x25519-zero", x, _le(0), "u = 0: order 2"),
        _key("x25519-one", x, _le(1), "u = 1: order 4"),
        _key("x25519-order-8-a", x, pt.montgomery_u(t[1]), "order 8"),
        _key("x25519-order-8-b", x, pt.montgomery_u(t[3]), "order 8"),
        _key("x25519-minus-one", x, _le(pt.P - 1), "u = p - 1: order 4, on the twist"),
        _key("x25519-u-is-p", x, _le(pt.P), "u = p, a second spelling of u = 0"),
        _key("x25519-u-is-p-plus-1", x, _le(pt.P + 1), "u = p + 1, a second spelling of u = 1"),
        _key("x25519-top-bit", x, alice_top_bit, "the RFC 7748 §6.1 Alice key with the top bit set"),
        _key("x25519-all-ones", x, b"\xff" * 32, "u = 2^256 - 1"),
        _key("x25519-twist", x, _le(twist_u), f"u = {twist_u}: on the twist, not on the curve"),
        _key("x25519-base-plus-order-8", x, pt.montgomery_u(pt.point_add(b, t[1])), "u of B + T: mixed order (8·L)"),
    ]


def accepted_keys() -> list[dict]:
    return [
        _key("ed25519-base-point", crypto.ED25519, pt.encode(pt.BASE), "B, RFC 8032 §5.1"),
        _key("ed25519-rfc8032-test-1", crypto.ED25519, RFC8032_TEST1_PUBLIC, "RFC 8032 §7.1 test 1"),
        _key("x25519-base-point", crypto.X25519, _le(9), "u = 9, RFC 7748 §4.1"),
        _key("x25519-rfc7748-alice", crypto.X25519, RFC7748_ALICE_PUBLIC, "RFC 7748 §6.1"),
        _key("x25519-rfc7748-bob", crypto.X25519, RFC7748_BOB_PUBLIC, "RFC 7748 §6.1"),
    ]


def _signature(name: str, public: bytes, message: bytes, signature: bytes, note: str) -> dict:
    assert pt.cofactorless_verify(public, message, signature), name
    return {
        "name": name,
        "publicKeyHex": public.hex(),
        "publicKey": crypto.b64url_encode(public),
        "keyReason": pt.ed25519_reason(public),
        "message": message.decode("ascii"),
        "messageHex": message.hex(),
        "signatureHex": signature.hex(),
        "signature": crypto.b64url_encode(signature),
        "note": note,
    }


def _messages(name: str):
    n = 0
    while True:
        yield f"keyhouse weak-key vector: {name} #{n}".encode("ascii")
        n += 1


def _challenge(r: bytes, public: bytes, message: bytes) -> int:
    return int.from_bytes(hashlib.sha512(r + public + message).digest(), "little") % pt.L


def _zero_key_signature() -> dict:
    """The attack of issue 20: no private key, 64 zero bytes; verifies when k ≡ 3 (mod 4)."""
    name, zero = "zero-key-zero-signature", bytes(32)
    message = next(m for m in _messages(name) if pt.cofactorless_verify(zero, m, bytes(64)))
    note = "R = A = the order-4 point, S = 0: [S]B = R + [k]A holds when k ≡ 3 (mod 4), one message in four"
    return _signature(name, zero, message, bytes(64), note)


def _identity_key_signature() -> dict:
    name, identity = "identity-key-identity-r", pt.encode(pt.IDENTITY)
    message = next(_messages(name))
    note = "A = R = the identity, S = 0: the equation holds for every message"
    return _signature(name, identity, message, identity + bytes(32), note)


def _order_8_key_signature() -> dict:
    """A key of order 8 and R chosen among the 8 small-order points so that R + [k]A = 0."""
    name, t = "order-8-key-small-order-r", pt.torsion()
    public = pt.encode(t[1])
    for message in _messages(name):
        for r in t:
            signature = pt.encode(r) + bytes(32)
            if pt.cofactorless_verify(public, message, signature):
                note = "A of order 8, R of small order, S = 0: R + [k]A = 0 for one (R, message) in eight"
                return _signature(name, public, message, signature, note)
    raise AssertionError("unreachable")


def _mixed_key_signature() -> dict:
    """The holder of a real key signs for its key plus the point of order 2 (k even: half the messages)."""
    name = "mixed-order-key-holders-signature"
    h = hashlib.sha512(RFC8032_TEST1_SEED).digest()
    a = int.from_bytes(h[:32], "little") & ((1 << 254) - 8) | (1 << 254)  # RFC 8032 §5.1.5
    public = pt.encode(pt.point_add(pt.decode(RFC8032_TEST1_PUBLIC)[0], pt.torsion()[4]))
    for message in _messages(name):
        r = int.from_bytes(hashlib.sha512(h[32:] + message).digest(), "little") % pt.L
        big_r = pt.encode(pt.point_mul(r, pt.BASE))
        k = _challenge(big_r, public, message)
        signature = big_r + _le((r + k * a) % pt.L)
        if pt.cofactorless_verify(public, message, signature):
            note = (
                "A' = A + (order-2 point), A the RFC 8032 test 1 key; its holder's signature under A' "
                "verifies when k is even: one key pair, two accepted public keys"
            )
            return _signature(name, public, message, signature, note)
    raise AssertionError("unreachable")


def weak_keys() -> dict:
    return {
        "description": "Public keys a party MUST refuse wherever a key enters and at use (PROTOCOL.md §2.4), "
        "with the reason (non-canonical, not on curve, small order, not in prime-order subgroup; the first "
        "that applies, in that order); keys that MUST be accepted; and Ed25519 signatures that satisfy the "
        "cofactorless equation [S]B = R + [k]A of RFC 8032 §5.1.7 under a weak key, so a verifier that "
        "skips the key check accepts them, made without (or beyond) any private key. Hex and base64url "
        "are the same 32 or 64 bytes.",
        "refusedKeys": refused_keys(),
        "acceptedKeys": accepted_keys(),
        "refusedSignatures": [
            _zero_key_signature(),
            _identity_key_signature(),
            _order_8_key_signature(),
            _mixed_key_signature(),
        ],
    }


BUILDERS = {"weak_keys.json": weak_keys}


if __name__ == "__main__":
    write(VECTORS, BUILDERS)
