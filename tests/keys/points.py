"""Curve25519 arithmetic from the RFCs, in plain Python: why a public key is refused.

Written from RFC 8032 §5.1 / §6 (edwards25519: decoding, addition, scalar multiplication) and
RFC 7748 §5 (the X25519 Montgomery ladder), independently of apps.keys.crypto (which asks
libsodium), to build tests/keys/vectors/weak_keys.json and to check that every refusal there
has the reason it states (PROTOCOL.md §2.4). Slow, not constant time: tests only.
"""

import hashlib

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # order of the prime-order subgroup
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
A24 = 121665  # (486662 - 2) / 4, RFC 7748 §5
MONTGOMERY_A = 486662

NON_CANONICAL = "non-canonical"
NOT_ON_CURVE = "not on curve"
SMALL_ORDER = "small order"
MIXED_ORDER = "not in prime-order subgroup"

# --- edwards25519 (RFC 8032 §6), extended coordinates (X, Y, Z, T) -----------------------------
IDENTITY = (0, 1, 1, 0)


def point_add(p, q):
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_mul(s: int, p):
    q = IDENTITY
    while s > 0:
        if s & 1:
            q = point_add(q, p)
        p = point_add(p, p)
        s >>= 1
    return q


def point_equal(p, q) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


def recover_x(y: int, sign: int) -> int | None:
    """RFC 8032 §5.1.3 step 2–4, without its y < p check (the caller does that)."""
    x2 = (y * y - 1) * pow(D * y * y + 1, -1, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if (x & 1) != sign else x


def decode(raw: bytes):
    """(point, None) or (None, reason) for 32 bytes read as an edwards25519 point."""
    y, sign = int.from_bytes(raw, "little") & ((1 << 255) - 1), raw[31] >> 7
    if y >= P:
        return None, NON_CANONICAL
    x2_zero = (y * y - 1) % P == 0  # x = 0: y = 1 or y = -1
    if x2_zero and sign:
        return None, NON_CANONICAL  # "negative zero"
    x = recover_x(y, sign)
    if x is None:
        return None, NOT_ON_CURVE
    return (x, y, 1, x * y % P), None


def encode(point) -> bytes:
    zinv = pow(point[2], -1, P)
    x, y = point[0] * zinv % P, point[1] * zinv % P
    return int.to_bytes(y | ((x & 1) << 255), 32, "little")


def ed25519_reason(raw: bytes) -> str | None:
    """Why an Ed25519 public key must be refused, or None for a canonical prime-order point."""
    point, reason = decode(raw)
    if reason:
        return reason
    if point_equal(point_mul(8, point), IDENTITY):
        return SMALL_ORDER
    if not point_equal(point_mul(L, point), IDENTITY):
        return MIXED_ORDER
    return None


BASE = decode(int.to_bytes(4 * pow(5, -1, P) % P, 32, "little"))[0]


def torsion() -> list:
    """The 8 points of small order, T(0) = identity … T(7), T(k) = k·T(1) with T(1) of order 8."""
    for y in range(2, 100):  # any point times L lands in the torsion; find one of order 8
        point, reason = decode(int.to_bytes(y, 32, "little"))
        if reason:
            continue
        t = point_mul(L, point)
        if not point_equal(point_mul(4, t), IDENTITY):
            return [point_mul(k, t) for k in range(8)]
    raise AssertionError("no point of order 8 found")


def cofactorless_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """RFC 8032 §5.1.7 with the check [S]B = R + [k]A (no cofactor, no key check): what a
    verifier that skips §2.4 computes. True means such a verifier would accept."""
    a, a_reason = decode(public)
    r, r_reason = decode(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a_reason or r_reason or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return point_equal(point_mul(s, BASE), point_add(r, point_mul(k, a)))


# --- X25519 (RFC 7748 §5): x-only Montgomery ladder; Z = 0 is the point at infinity ----------
def ladder(k: int, u: int) -> tuple[int, int]:
    """(X, Z) of [k]·u for any integer k ≥ 0 (no clamping), on the curve or on its twist."""
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(max(k.bit_length(), 1))):
        bit = (k >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = (x2 + z2) % P, (x2 - z2) % P
        aa, bb = a * a % P, b * b % P
        e = (aa - bb) % P
        c, d = (x3 + z3) % P, (x3 - z3) % P
        da, cb = d * a % P, c * b % P
        x3, z3 = (da + cb) ** 2 % P, x1 * (da - cb) ** 2 % P
        x2, z2 = aa * bb % P, e * (aa + A24 * e) % P
    if swap:
        x2, z2 = x3, z3
    return x2, z2


def x25519_reason(raw: bytes) -> str | None:
    """Why an X25519 public key must be refused, or None for a canonical prime-order point."""
    u = int.from_bytes(raw, "little")
    if u >= P:  # includes the top bit set: RFC 7748 masks it, Keyhouse refuses it
        return NON_CANONICAL
    if ladder(8, u)[1] == 0:
        return SMALL_ORDER  # on the curve or on the twist
    if pow((u**3 + MONTGOMERY_A * u * u + u) % P, (P - 1) // 2, P) != 1:
        return NOT_ON_CURVE  # a point of the twist
    if ladder(L, u)[1] != 0:
        return MIXED_ORDER
    return None


def montgomery_u(point) -> bytes:
    """u = (1 + y) / (1 - y) of an edwards25519 point (RFC 7748 §4.1)."""
    y = point[1] * pow(point[2], -1, P) % P
    return int.to_bytes((1 + y) * pow(1 - y, -1, P) % P, 32, "little")
