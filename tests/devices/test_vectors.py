"""tests/devices/vectors/*.json (docs/PROTOCOL.md §7.8), checked byte for byte three ways:
against the builder, through apps.devices.protocol (the server), and step by step from the
document with `cryptography` primitives and the reference phone (what an app team writes)."""

import hashlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from apps.devices import protocol
from apps.keys import canonical, crypto
from tests.devices import make_vectors
from tests.devices.phone import Phone, PhoneRefused

h = bytes.fromhex


def _load(name: str) -> dict:
    return json.loads((make_vectors.VECTORS / name).read_text(encoding="utf-8"))


SYNC = _load("device_sync.json")
UNLOCK = _load("unlock_proof.json")


@pytest.mark.parametrize("name", sorted(make_vectors.BUILDERS))
def test_stored_vectors_are_what_the_builder_makes(name):
    stored = (make_vectors.VECTORS / name).read_text(encoding="utf-8")
    assert stored == make_vectors.text(make_vectors.BUILDERS[name])


def _verify_ed25519(public_hex: str, message: bytes, signature_b64url: str) -> None:
    Ed25519PublicKey.from_public_bytes(h(public_hex)).verify(crypto.b64url_decode(signature_b64url), message)


def test_sync_request_signature_step_by_step():
    request = SYNC["request"]
    payload = {k: v for k, v in request["body"].items() if k != "deviceSignature"}
    assert payload == request["payload"]
    canonical_text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical_text == request["canonical"]  # ASCII keys, no floats: plain sorted JSON is JCS here
    signing_input = request["context"].encode() + b"\n" + canonical_text.encode()
    assert signing_input.hex() == request["signingInputHex"]
    _verify_ed25519(request["deviceSyncKey"]["publicKeyHex"], signing_input, request["deviceSignature"])
    # The server's check accepts it, and refuses any changed member.
    public = h(request["deviceSyncKey"]["publicKeyHex"])
    protocol.sync_request_verify(payload, request["deviceSignature"], public)
    with pytest.raises(crypto.InvalidSignature):
        protocol.sync_request_verify({**payload, "syncCounter": 43}, request["deviceSignature"], public)


def test_the_reference_phone_signs_the_same_bytes():
    request = SYNC["request"]
    phone = Phone(
        access=crypto.generate(crypto.ED25519),
        sync=crypto.KeyPair(
            crypto.ED25519,
            crypto.SecretBytes(h(request["deviceSyncKey"]["privateKeyHex"])),
            h(request["deviceSyncKey"]["publicKeyHex"]),
        ),
        seal=crypto.generate(crypto.X25519),
        user_id=request["payload"]["userId"],
        user_device_id=request["payload"]["userDeviceId"],
    )
    payload = request["payload"]
    body = phone.sync_body(
        counter=payload["syncCounter"], syncDate=payload["syncDate"], currentUserAccessMapVersion="6"
    )
    assert body == request["body"]


def test_map_content_digest_and_version():
    vector = SYNC["map"]
    content = vector["content"]
    assert canonical.canonical(content).decode() == vector["contentCanonical"]
    assert hashlib.sha256(vector["contentCanonical"].encode()).hexdigest() == vector["digestHex"]
    assert protocol.map_digest(content) == vector["digestHex"]
    document = vector["document"]
    assert {k: v for k, v in document.items() if k not in ("userAccessMapVersion", "issuedAt", "notAfter")} == content
    assert document["userAccessMapVersion"] == vector["userAccessMapVersion"]
    # Order and duplicates do not change the content (nor, therefore, the version).
    shuffled = protocol.map_content(
        user_id=content["userId"],
        user_device_id=content["userDeviceId"],
        access_key_id=content["accessKeyId"],
        access_kid=content["accessKid"],
        properties=content["properties"],
        entries=[*reversed(content["entries"]), content["entries"][0]],
    )
    assert protocol.map_digest(shuffled) == vector["digestHex"]


def test_sealed_map_step_by_step_and_through_the_phone():
    vector = SYNC["map"]
    aad = canonical.canonical(
        {"userAccessMapVersion": vector["userAccessMapVersion"], "userDeviceId": vector["document"]["userDeviceId"]}
    )
    assert aad.decode() == vector["aad"] and aad.hex() == vector["aadHex"]
    sealed = crypto.b64url_decode(vector["sealed"])
    assert sealed[0] == 1 and len(sealed) == len(vector["documentCanonical"].encode()) + crypto.SEAL_OVERHEAD
    assert sealed[33:45] == h(vector["nonceHex"])
    plaintext = crypto.unseal(h(vector["sealPrivateKeyHex"]), sealed, info=vector["info"], aad=aad)
    assert plaintext.decode() == vector["documentCanonical"]
    assert canonical.loads(plaintext) == vector["document"]
    # The server's sealing, with the vector's ephemeral key and nonce, gives the same bytes.
    again = protocol.map_seal(
        vector["document"],
        seal_public_key=h(vector["sealPublicKeyHex"]),
        _ephemeral_private=h(vector["ephemeralPrivateKeyHex"]),
        _nonce=h(vector["nonceHex"]),
    )
    assert again == vector["sealed"]


def _vector_phone() -> Phone:
    vector = SYNC["map"]
    seal_private = crypto.SecretBytes(h(vector["sealPrivateKeyHex"]))
    return Phone(
        access=crypto.generate(crypto.ED25519),
        sync=crypto.generate(crypto.ED25519),
        seal=crypto.KeyPair(crypto.X25519, seal_private, h(vector["sealPublicKeyHex"])),
        user_id=vector["document"]["userId"],
        user_device_id=vector["document"]["userDeviceId"],
    )


def test_sync_response_signed_by_the_property_key_and_read_by_the_phone():
    response = SYNC["response"]
    key = response["propertyKey"]
    signing_input = response["context"].encode() + b"\n" + response["canonical"].encode()
    assert canonical.canonical(response["data"]).decode() == response["canonical"]
    assert set(response["signatures"]) == {key["kid"]}
    _verify_ed25519(key["publicKeyHex"], signing_input, response["signatures"][key["kid"]])

    phone = _vector_phone()
    phone.last_sent = {"syncCounter": response["data"]["syncCounter"]}
    opened = phone.receive({"data": response["data"], "signatures": response["signatures"]})
    assert opened == SYNC["map"]["document"] and phone.map_version == "7"
    # The renewal: same version, no map, a later notAfter.
    renewal = response["renewal"]
    phone.last_sent = {"syncCounter": renewal["data"]["syncCounter"]}
    assert phone.receive(renewal) is None
    assert phone.not_after == renewal["data"]["notAfter"]
    # A renewal whose signature does not verify is refused.
    phone.last_sent = {"syncCounter": renewal["data"]["syncCounter"]}
    forged = {"data": {**renewal["data"], "notAfter": "2099-01-01T00:00:00.000Z"}, "signatures": renewal["signatures"]}
    with pytest.raises(PhoneRefused):
        phone.receive(forged)


def test_unlock_proof_step_by_step():
    key = UNLOCK["deviceAccessKey"]
    payload = UNLOCK["payload"]
    assert payload["lockId"] == UNLOCK["challenge"]["lockId"] and payload["nonce"] == UNLOCK["challenge"]["nonce"]
    assert isinstance(payload["at"], int)
    canonical_text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    assert canonical_text == UNLOCK["canonical"]
    signing_input = UNLOCK["context"].encode() + b"\n" + canonical_text.encode()
    assert signing_input.hex() == UNLOCK["signingInputHex"]
    proof = UNLOCK["proof"]
    assert proof["payload"] == payload and set(proof["signatures"]) == {key["kid"]}
    _verify_ed25519(key["publicKeyHex"], signing_input, proof["signatures"][key["kid"]])
    # What a lock does (§3.4): verify against the kids of its key map.
    assert canonical.verify_message(proof, UNLOCK["context"], [h(key["publicKeyHex"])]) == payload


def test_the_reference_phone_answers_a_challenge_with_the_same_bytes():
    key = UNLOCK["deviceAccessKey"]
    phone = Phone(
        access=crypto.KeyPair(crypto.ED25519, crypto.SecretBytes(h(key["privateKeyHex"])), h(key["publicKeyHex"])),
        sync=crypto.generate(crypto.ED25519),
        seal=crypto.generate(crypto.X25519),
        access_map={"entries": [{"lockId": UNLOCK["challenge"]["lockId"]}]},
    )
    assert phone.unlock_proof(UNLOCK["challenge"], at=UNLOCK["payload"]["at"]) == UNLOCK["proof"]
    with pytest.raises(PhoneRefused):  # a lock it holds no access to
        phone.unlock_proof({**UNLOCK["challenge"], "lockId": "0190a1b2-0000-7000-8000-0000000000ff"})
    # A proof for one lock or nonce is no proof for another (the lock checks its own values).
    proof = phone.unlock_proof(UNLOCK["challenge"], at=UNLOCK["payload"]["at"])
    other = {
        "payload": {**proof["payload"], "nonce": crypto.b64url_encode(b"\x00" * 16)},
        "signatures": proof["signatures"],
    }
    with pytest.raises(crypto.InvalidSignature):
        canonical.verify_message(other, UNLOCK["context"], [h(key["publicKeyHex"])])


def test_the_vector_pins_the_types_of_the_map_s_times():
    """PROTOCOL.md §7.5 "Types": `issuedAt`, `notAfter` and every entry's and schedule's
    `validFrom`/`validUntil` are timestamp strings (`YYYY-MM-DDTHH:MM:SS.sssZ`, UTC) or null,
    unlike the lock's key map (§6.3), whose times are integer Unix seconds."""
    import re

    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
    document = SYNC["map"]["document"]
    assert stamp.match(document["issuedAt"]) and stamp.match(document["notAfter"])
    bounds = [(e["validFrom"], e["validUntil"]) for e in document["entries"]]
    bounds += [(e["schedule"]["validFrom"], e["schedule"]["validUntil"]) for e in document["entries"] if e["schedule"]]
    assert any(b is not None for pair in bounds for b in pair)  # the vector has non-null bounds to pin
    assert all(b is None or (isinstance(b, str) and stamp.match(b)) for pair in bounds for b in pair)
    assert '"validFrom":"2026-11-01T00:00:00.000Z"' in SYNC["map"]["documentCanonical"]
