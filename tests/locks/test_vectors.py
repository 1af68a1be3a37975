"""tests/locks/vectors/*.json (docs/PROTOCOL.md §6.8): reproducible from the builder, and every
signature, digest, canonical text and sealed blob checked again by the reference lock's own
implementation (no Keyhouse code) and by cryptography primitives step by step."""

import hashlib
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tests.locks import make_vectors
from tests.locks.reference_lock import b64url, jcs, kid_of, unb64url, verify

FILES = sorted(make_vectors.BUILDERS)


def _load(name: str) -> dict:
    return json.loads((make_vectors.VECTORS / name).read_text())


@pytest.mark.parametrize("name", FILES)
def test_the_file_is_what_the_builder_makes(name):
    assert (make_vectors.VECTORS / name).read_text() == make_vectors.render(make_vectors.BUILDERS[name]())


def _check_signed(payload: dict, vector: dict, signer: dict) -> None:
    assert jcs(payload) == vector["canonical"]
    signing_input = vector["context"].encode() + b"\n" + vector["canonical"].encode()
    assert hashlib.sha256(signing_input).hexdigest() == vector["signingInputSha256"]
    public = unb64url(signer["publicKey"])
    assert kid_of("Ed25519", public) == signer["kid"] and list(vector["signatures"]) == [signer["kid"]]
    verify(payload, vector["signatures"], vector["context"], {signer["kid"]: public})


def test_key_map_vector():
    v = _load("key_map.json")
    payload = v["payload"]
    _check_signed(payload, v, v["propertyKey"])
    assert v["keyMapDigest"] == b64url(hashlib.sha256(jcs(payload).encode()).digest())
    assert hashlib.sha256(jcs(v["content"]).encode()).hexdigest() == v["contentDigest"]
    for entry in payload["entries"]:
        assert kid_of("Ed25519", unb64url(entry["publicKey"])) == entry["kid"]
    # Alice twice (always, gym hours), Bob by a grant with validity, Mallory only as denied
    assert sorted((e["userId"][-2:], e["schedule"] is None, e["userGroupId"] is None) for e in payload["entries"]) == [
        ("a1", False, False),
        ("a1", True, False),
        ("a2", True, True),
    ]
    assert [e["kid"] for e in payload["entries"]] == sorted(e["kid"] for e in payload["entries"])
    assert len(payload["deniedKids"]) == 1 and payload["deniedKids"][0] not in {e["kid"] for e in payload["entries"]}
    # Europe/London goes to summer time on Sunday 29 March 2026 at 01:00 UTC (02:00 → 03:00):
    gym = payload["schedules"][make_vectors.GYM_HOURS_ID]
    assert [1774735200, 1774746000] in gym  # Sat 22:00 GMT → Sun "02:00" = 01:00 UTC, three real hours
    assert [1774846800, 1774904400] in gym  # Mon 06:00–22:00 BST = 05:00–21:00 UTC
    assert payload["schedules"][make_vectors.LOBBY_HOURS_ID] == [[1774744200, 1774749600]]


def test_lock_command_vector():
    v = _load("lock_command.json")
    _check_signed(v["data"], v, v["propertyKey"])
    assert v["data"]["lockCommand"]["lockKid"] == v["lockKey"]["kid"]


def test_lock_sync_vector_step_by_step():
    v = _load("lock_sync.json")
    _check_signed(v["request"]["payload"], v["request"], v["lockKey"])
    _check_signed(v["response"]["payload"], v["response"], v["propertyKey"])
    _check_signed(v["ack"]["payload"], v["ack"], v["lockKey"])
    assert v["ack"]["payload"]["keyMapDigest"] == _load("key_map.json")["keyMapDigest"]

    logs = v["accessLogs"]
    sealed = bytes.fromhex(logs["sealedHex"])
    assert b64url(sealed) == v["request"]["payload"]["encryptedAccessLogs"]
    assert bytes.fromhex(logs["aadHex"]) == jcs({"lockId": make_vectors.LOCK_ID, "syncSequence": 42}).encode()
    recipient = X25519PrivateKey.from_private_bytes(bytes.fromhex(v["propertySealKey"]["privateKeyHex"]))
    recipient_public = unb64url(v["propertySealKey"]["publicKey"])
    assert sealed[0] == 1 and len(sealed) == len(logs["plaintext"].encode()) + 61
    ephemeral_public = sealed[1:33]
    ephemeral = X25519PrivateKey.from_private_bytes(bytes.fromhex(logs["ephemeralPrivateKeyHex"]))
    assert ephemeral.public_key().public_bytes_raw() == ephemeral_public
    shared = recipient.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
    key = HKDF(hashes.SHA256(), 32, salt=ephemeral_public + recipient_public, info=logs["info"].encode()).derive(shared)
    assert sealed[33:45].hex() == logs["nonceHex"]
    opened = AESGCM(key).decrypt(sealed[33:45], sealed[45:], bytes.fromhex(logs["aadHex"]))
    assert opened.decode() == logs["plaintext"] == jcs(json.loads(logs["plaintext"]))


def test_lock_sync_health_vector_step_by_step():
    """§6.4.1 (protocol 1.1): the 1.0 members plus `batteryLevel` and `doorState`, signed like
    the others under the unchanged context; checked by the reference lock's own code."""
    v = _load("lock_sync_health.json")
    payload = v["request"]["payload"]
    _check_signed(payload, v["request"], v["lockKey"])
    assert v["request"]["context"] == "keyhouse/lock-sync-request/v1"
    assert (payload["batteryLevel"], payload["doorState"]) == (17, "open")
    assert set(payload) - set(_load("lock_sync.json")["request"]["payload"]) == {"batteryLevel", "doorState"}
