"""The published vectors (tests/keys/vectors/*.json, docs/PROTOCOL.md §10), checked byte for byte.

Each file is checked twice: through apps.keys (what the server does), and step by step from
the text of PROTOCOL.md with `cryptography` primitives only (what a lock or phone team would
write), so the document, the vectors and the code cannot drift apart.
"""

import base64
import hashlib
import json
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from apps.keys import canonical, crypto, kek
from tests.keys import make_vectors
from tests.keys import points as pt
from tests.keys.conftest import VECTORS, ring, vectors

h = bytes.fromhex
CANONICAL = vectors("canonical.json")
PRIMITIVES = vectors("primitives.json")
KEY_IDS = vectors("key_ids.json")
SIGNATURES = vectors("signatures.json")
SEAL = vectors("seal.json")
KEK = vectors("kek.json")
WEAK = vectors("weak_keys.json")


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# --- canonical JSON (RFC 8785) ----------------------------------------------------------------
@pytest.mark.parametrize("case", CANONICAL["objects"], ids=lambda c: c["name"])
def test_rfc8785_published_objects(case):
    out = canonical.jcs(json.loads(case["input"]))
    assert out == h(case["canonicalHex"])
    assert out.decode("utf-8") == case["canonical"]


def test_rfc8785_property_order_is_by_utf16_code_units():
    case = CANONICAL["objects"][1]
    assert list(json.loads(case["canonical"])) == case["propertyOrder"]
    assert list(json.loads(case["canonical"]).values())[-2:] == [
        "Emoji: Grinning Face",
        "Hebrew Letter Dalet With Dagesh",
    ]


@pytest.mark.parametrize(("bits", "expected"), CANONICAL["numbers"])
def test_rfc8785_appendix_b_numbers(bits, expected):
    (value,) = struct.unpack(">d", h(bits))
    assert canonical.jcs(value) == expected.encode()


@pytest.mark.parametrize("bits", CANONICAL["numberErrors"])
def test_rfc8785_nan_and_infinity_are_refused(bits):
    (value,) = struct.unpack(">d", h(bits))
    with pytest.raises(canonical.CanonicalError):
        canonical.jcs(value)


def test_keyhouse_profile_vectors():
    for case in CANONICAL["profile"]["accepted"]:
        assert canonical.canonical(canonical.loads(case["input"])) == case["canonical"].encode()
    for case in CANONICAL["profile"]["rejected"]:
        with pytest.raises(canonical.CanonicalError):
            canonical.canonical(canonical.loads(case["input"]))


# --- primitives -------------------------------------------------------------------------------
def test_primitive_vectors():
    ed = PRIMITIVES["ed25519"][0]
    assert crypto.public_key(crypto.ED25519, h(ed["privateKeyHex"])) == h(ed["publicKeyHex"])
    assert crypto.sign(h(ed["privateKeyHex"]), h(ed["messageHex"])) == h(ed["signatureHex"])
    x = PRIMITIVES["x25519"][0]
    assert crypto.public_key(crypto.X25519, h(x["alicePrivateHex"])) == h(x["alicePublicHex"])
    assert crypto.public_key(crypto.X25519, h(x["bobPrivateHex"])) == h(x["bobPublicHex"])
    alice = X25519PrivateKey.from_private_bytes(h(x["alicePrivateHex"]))
    assert alice.exchange(X25519PublicKey.from_public_bytes(h(x["bobPublicHex"]))) == h(x["sharedSecretHex"])
    kdf = PRIMITIVES["hkdfSha256"][0]
    okm = HKDF(hashes.SHA256(), kdf["length"], h(kdf["saltHex"]), h(kdf["infoHex"])).derive(h(kdf["ikmHex"]))
    assert okm == h(kdf["okmHex"])
    gcm = PRIMITIVES["aes256gcm"][0]
    out = AESGCM(h(gcm["keyHex"])).encrypt(h(gcm["nonceHex"]), h(gcm["plaintextHex"]), h(gcm["aadHex"]))
    assert out == h(gcm["ciphertextHex"]) + h(gcm["tagHex"])


# --- key ids ----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", KEY_IDS["cases"], ids=lambda c: c["kid"])
def test_key_id_vectors(case):
    public = h(case["publicKeyHex"])
    assert crypto.key_id(case["algorithm"], public) == case["kid"]
    # From the document: SHA-256(algorithm || 0x00 || public)[0:16], base64url without padding.
    hash_input = case["algorithm"].encode("ascii") + b"\x00" + public
    assert hash_input == h(case["hashInputHex"])
    assert hashlib.sha256(hash_input).hexdigest() == case["sha256Hex"]
    assert _b64url(h(case["sha256Hex"])[:16]) == case["kid"]
    assert len(case["kid"]) == 22


def test_same_bytes_under_two_algorithms_have_two_kids():
    same = [c for c in KEY_IDS["cases"] if c["publicKeyHex"] == KEY_IDS["cases"][0]["publicKeyHex"]]
    assert len({c["kid"] for c in same}) == 2


# --- signed envelopes -------------------------------------------------------------------------
@pytest.mark.parametrize("case", SIGNATURES["cases"], ids=lambda c: c["name"])
def test_signature_vectors(case):
    signers = [h(x) for x in case["signerPrivateKeysHex"]]
    publics = [h(x) for x in case["signerPublicKeysHex"]]
    payload = case["payload"]
    assert canonical.canonical(payload) == case["canonical"].encode()
    assert canonical.signing_input(payload, case["context"]) == h(case["signingInputHex"])
    assert canonical.sign_message(payload, case["context"], signers) == case["envelope"]
    assert canonical.verify_message(case["envelope"], case["context"], publics) == payload
    # From the document: context || LF || JCS(payload); Ed25519; kid → base64url(signature).
    signing_input = case["context"].encode("ascii") + b"\n" + case["canonical"].encode("utf-8")
    assert signing_input == h(case["signingInputHex"])
    for private, public in zip(signers, publics, strict=True):
        key = Ed25519PrivateKey.from_private_bytes(private)
        assert key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw) == public
        kid = _b64url(hashlib.sha256(b"Ed25519\x00" + public).digest()[:16])
        assert case["signatures"][kid] == _b64url(key.sign(signing_input))
        Ed25519PublicKey.from_public_bytes(public).verify(crypto.b64url_decode(case["signatures"][kid]), signing_input)


def test_signature_vector_parsed_from_json_text_verifies():
    """A lock receives text: parse strictly, re-canonicalize the payload, verify."""
    case = SIGNATURES["cases"][0]
    text = json.dumps(case["envelope"], indent=3, ensure_ascii=True)  # any spacing, any escaping
    message = canonical.loads(text)
    assert canonical.verify_message(message, case["context"], [h(case["signerPublicKeysHex"][0])])


# --- sealing ----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", SEAL["cases"], ids=lambda c: c["name"])
def test_seal_vectors(case):
    sealed = crypto.seal(
        h(case["recipientPublicKeyHex"]),
        h(case["plaintextHex"]),
        info=case["info"],
        aad=h(case["aadHex"]),
        _ephemeral_private=h(case["ephemeralPrivateKeyHex"]),
        _nonce=h(case["nonceHex"]),
    )
    assert sealed == h(case["sealedHex"])
    assert crypto.b64url_encode(sealed) == case["sealedBase64url"]
    opened = crypto.unseal(h(case["recipientPrivateKeyHex"]), sealed, info=case["info"], aad=h(case["aadHex"]))
    assert opened == h(case["plaintextHex"])


@pytest.mark.parametrize("case", SEAL["cases"], ids=lambda c: c["name"])
def test_seal_vectors_from_the_document(case):
    """Open each vector the way PROTOCOL.md §4 describes, field by field."""
    sealed = h(case["sealedHex"])
    version, ephemeral_public, nonce, body = sealed[0], sealed[1:33], sealed[33:45], sealed[45:]
    assert version == 1
    assert ephemeral_public == h(case["ephemeralPublicKeyHex"]) and nonce == h(case["nonceHex"])
    recipient = X25519PrivateKey.from_private_bytes(h(case["recipientPrivateKeyHex"]))
    recipient_public = recipient.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    shared = recipient.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    assert shared == h(case["sharedSecretHex"])
    assert ephemeral_public + recipient_public == h(case["hkdfSaltHex"])
    key = HKDF(hashes.SHA256(), 32, ephemeral_public + recipient_public, case["info"].encode()).derive(shared)
    assert key == h(case["aeadKeyHex"])
    assert AESGCM(key).decrypt(nonce, body, h(case["aadHex"])) == h(case["plaintextHex"])
    assert len(sealed) == len(h(case["plaintextHex"])) + crypto.SEAL_OVERHEAD


# --- KEK wrapping -----------------------------------------------------------------------------
@pytest.mark.parametrize("case", KEK["cases"], ids=lambda c: str(c["kekId"]))
def test_kek_vectors(case):
    the_ring = ring({case["kekId"]: case["kekBase64"]}, case["kekId"])
    binding = {"key_id": case["keyId"], "purpose": case["purpose"], "algorithm": case["algorithm"]}
    kek_id, wrapped = kek.wrap(h(case["privateKeyHex"]), ring=the_ring, _nonce=h(case["nonceHex"]), **binding)
    assert (kek_id, wrapped) == (case["kekId"], h(case["wrappedHex"]))
    assert kek.associated_data(kek_id=case["kekId"], **binding) == h(case["associatedDataHex"])
    assert kek.unwrap(wrapped, kek_id=kek_id, ring=the_ring, **binding) == h(case["privateKeyHex"])
    # From the document: 0x01 || nonce || AES-256-GCM(kek, nonce, private, ad).
    ad = (
        b"keyhouse/kek-wrap/v1\n"
        + json.dumps(
            {k: case[k] for k in ("algorithm", "kekId", "keyId", "purpose")},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
    )
    assert ad == h(case["associatedDataHex"]) and ad.decode() == case["associatedData"]
    body = AESGCM(base64.b64decode(case["kekBase64"])).encrypt(h(case["nonceHex"]), h(case["privateKeyHex"]), ad)
    assert b"\x01" + h(case["nonceHex"]) + body == h(case["wrappedHex"])


# --- weak keys (§2.4) -------------------------------------------------------------------------
def _reason(algorithm: str, public: bytes) -> str | None:
    """From the document, with the RFCs' arithmetic (tests/keys/points.py), not libsodium."""
    return (pt.ed25519_reason if algorithm == crypto.ED25519 else pt.x25519_reason)(public)


def test_weak_key_vectors_hold():
    """The file is the builder's; each refused key is refused by crypto for the reason it gives
    (checked with the RFCs' arithmetic), each accepted key is accepted."""
    assert (VECTORS / "weak_keys.json").read_text(encoding="utf-8") == make_vectors.text(make_vectors.weak_keys)
    for case in WEAK["refusedKeys"] + WEAK["acceptedKeys"]:
        public = h(case["publicKeyHex"])
        assert crypto.b64url_decode(case["publicKey"]) == public, case["name"]
        assert _reason(case["algorithm"], public) == case["reason"], case["name"]
        if case["reason"] is None:
            assert crypto.check_public_key(case["algorithm"], public) == public, case["name"]
        else:
            with pytest.raises(crypto.WeakKeyError):
                crypto.check_public_key(case["algorithm"], public)
                pytest.fail(f"{case['name']} was accepted")


@pytest.mark.parametrize("case", WEAK["refusedSignatures"], ids=lambda c: c["name"])
def test_signatures_by_weak_keys_are_refused(case):
    public, message, signature = h(case["publicKeyHex"]), h(case["messageHex"]), h(case["signatureHex"])
    assert message.decode("ascii") == case["message"] and crypto.b64url_decode(case["signature"]) == signature
    assert _reason(crypto.ED25519, public) == case["keyReason"]
    # The forgery is real: the cofactorless equation of RFC 8032 §5.1.7 holds, so only the key
    # check (§2.4) refuses it.
    assert pt.cofactorless_verify(public, message, signature)
    with pytest.raises(crypto.InvalidSignature):
        crypto.verify(public, message, signature)


def test_no_seal_case_passes_for_an_access_map():
    """A seal case under the user-access-map info seals arbitrary bytes; it says so and points
    at device_sync.json, the only vector of a real §7.5 map (its aad and JCS document)."""
    for case in SEAL["cases"]:
        if case["info"] == "keyhouse/user-access-map/v1":
            assert "not a §7.5 map" in case["name"] and "device_sync.json" in case["note"]
            assert b'"format"' not in h(case["plaintextHex"])
