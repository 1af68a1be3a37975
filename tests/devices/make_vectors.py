"""Builds tests/devices/vectors/*.json (docs/PROTOCOL.md §7.8) from fixed inputs.

    python -m tests.devices.make_vectors     # rewrite the files (only with a context-version bump)

Every secret is SHA-256 of a label; Ed25519 is deterministic and the seal takes its ephemeral
key and nonce from the vector, so the output is reproducible byte for byte. test_vectors.py
checks the stored files against this builder, against apps.devices.protocol, and step by step.
"""

from pathlib import Path

from apps.devices import protocol  # pure: no Django
from apps.keys import canonical, crypto
from tests.vectors import key_vector, secret, write
from tests.vectors import text as text  # test_vectors.py compares the files with make_vectors.text

VECTORS = Path(__file__).parent / "vectors"

USER_ID = "0190a1b2-0000-7000-8000-0000000000a1"
DEVICE_ID = "0190a1b2-0000-7000-8000-0000000000d1"
ACCESS_KEY_ID = "0190a1b2-0000-7000-8000-0000000000c1"
PROPERTY_ID = "0190a1b2-0000-7000-8000-0000000000b1"
AREA_ID = "0190a1b2-0000-7000-8000-0000000000e1"
LOCK_ID = "0190a1b2-0000-7000-8000-0000000000f1"
GYM_LOCK_ID = "0190a1b2-0000-7000-8000-0000000000f2"
SCHEDULE_ID = "0190a1b2-0000-7000-8000-0000000000c2"
KEY_FIELDS = ("privateKeyHex", "publicKeyHex", "publicKey", "kid")  # a key as these files give it (tests/vectors.py)


def _signing(label: str) -> dict:
    return key_vector(crypto.ED25519, label, KEY_FIELDS)


def device_sync() -> dict:
    sync_key, access_key = _signing("device sync key"), _signing("device access key")
    seal_private = secret("device seal key")
    seal_public = crypto.public_key(crypto.X25519, seal_private)
    property_key = _signing("property signing key")

    payload = {
        "userId": USER_ID,
        "userDeviceId": DEVICE_ID,
        "syncDate": "2026-11-24T09:30:00.000Z",
        "syncCounter": 42,
        "deviceType": "iOS",
        "makeModel": "iPhone 15",
        "currentOsVersion": "18.1",
        "currentAppVersion": "2.3.0",
        "currentUserAccessMapVersion": "6",
    }
    signing_input = canonical.signing_input(payload, canonical.CONTEXT_DEVICE_SYNC_REQUEST)
    signature = crypto.b64url_encode(crypto.sign(bytes.fromhex(sync_key["privateKeyHex"]), signing_input))

    entries = [
        protocol.map_entry(
            property_id=PROPERTY_ID,
            area_id=AREA_ID,
            lock_id=LOCK_ID,
            lock_kid=None,
            schedule=None,
            valid_from=None,
            valid_until=None,
        ),
        protocol.map_entry(
            property_id=PROPERTY_ID,
            area_id=AREA_ID,
            lock_id=GYM_LOCK_ID,
            lock_kid="Zm9yLXRoZS1sb2NrLXNpZGU",
            schedule={
                "scheduleId": SCHEDULE_ID,
                "windows": [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00", "stop": "22:00"}],
                "validFrom": None,
                "validUntil": "2027-01-01T00:00:00.000Z",
            },
            valid_from="2026-11-01T00:00:00.000Z",
            valid_until=None,
        ),
    ]
    content = protocol.map_content(
        user_id=USER_ID,
        user_device_id=DEVICE_ID,
        access_key_id=ACCESS_KEY_ID,
        access_kid=access_key["kid"],
        properties=[
            {
                "propertyId": PROPERTY_ID,
                "timeZone": "Europe/London",
                "signingKeys": [{"kid": property_key["kid"], "publicKey": property_key["publicKey"]}],
            }
        ],
        entries=entries,
    )
    version, issued_at, not_after = "7", "2026-11-24T09:30:00.250Z", "2026-11-27T09:30:00.250Z"
    document = protocol.map_document(content, version=version, issued_at=issued_at, not_after=not_after)
    aad = protocol.map_aad(user_device_id=DEVICE_ID, version=version)
    ephemeral, nonce = secret("seal ephemeral key"), secret("seal nonce")[:12]
    sealed = protocol.map_seal(document, seal_public_key=seal_public, _ephemeral_private=ephemeral, _nonce=nonce)
    data = protocol.sync_response_payload(
        user_id=USER_ID,
        user_device_id=DEVICE_ID,
        sync_counter=42,
        server_time=issued_at,
        version=version,
        not_after=not_after,
        sealed=[sealed],
    )
    renewal = protocol.sync_response_payload(
        user_id=USER_ID,
        user_device_id=DEVICE_ID,
        sync_counter=43,
        server_time="2026-11-25T08:00:00.000Z",
        version=version,
        not_after="2026-11-28T08:00:00.000Z",
        sealed=None,
    )
    property_private = bytes.fromhex(property_key["privateKeyHex"])
    return {
        "description": "Device sync (PROTOCOL.md §7.3–§7.5): the signed request, the sealed access map, "
        "and the signed response (with a map, and a renewal without one). Secrets are SHA-256 of labels; "
        "the seal's ephemeral key and nonce are fixed only so the output is reproducible.",
        "request": {
            "deviceSyncKey": sync_key,
            "context": canonical.CONTEXT_DEVICE_SYNC_REQUEST,
            "payload": payload,
            "canonical": canonical.canonical(payload).decode(),
            "signingInputHex": signing_input.hex(),
            "deviceSignature": signature,
            "body": {**payload, "deviceSignature": signature},
        },
        "map": {
            "deviceAccessKey": access_key,
            "sealPrivateKeyHex": seal_private.hex(),
            "sealPublicKeyHex": seal_public.hex(),
            "content": content,
            "contentCanonical": canonical.canonical(content).decode(),
            "digestHex": protocol.map_digest(content),
            "userAccessMapVersion": version,
            "document": document,
            "documentCanonical": canonical.canonical(document).decode(),
            "info": canonical.CONTEXT_SEAL_USER_ACCESS_MAP,
            "aad": aad.decode(),
            "aadHex": aad.hex(),
            "ephemeralPrivateKeyHex": ephemeral.hex(),
            "nonceHex": nonce.hex(),
            "sealed": sealed,
        },
        "response": {
            "propertyKey": property_key,
            "context": canonical.CONTEXT_DEVICE_SYNC_RESPONSE,
            "data": data,
            "canonical": canonical.canonical(data).decode(),
            "signatures": canonical.sign_payload(data, canonical.CONTEXT_DEVICE_SYNC_RESPONSE, [property_private]),
            "renewal": {
                "data": renewal,
                "signatures": canonical.sign_payload(
                    renewal, canonical.CONTEXT_DEVICE_SYNC_RESPONSE, [property_private]
                ),
            },
        },
    }


def unlock_proof() -> dict:
    access_key = _signing("device access key")
    challenge = {"lockId": LOCK_ID, "nonce": crypto.b64url_encode(secret("lock nonce")[:16])}
    payload = {"at": 1795512600, "lockId": challenge["lockId"], "nonce": challenge["nonce"]}
    signing_input = canonical.signing_input(payload, canonical.CONTEXT_UNLOCK_PROOF)
    return {
        "description": "Unlock proof (PROTOCOL.md §7.6): the phone answers a lock's challenge by signing "
        "{at, lockId, nonce} with its deviceAccessKey; the envelope is §3.4's, keyed by the access key's kid.",
        "deviceAccessKey": access_key,
        "challenge": challenge,
        "context": canonical.CONTEXT_UNLOCK_PROOF,
        "payload": payload,
        "canonical": canonical.canonical(payload).decode(),
        "signingInputHex": signing_input.hex(),
        "proof": canonical.sign_message(
            payload, canonical.CONTEXT_UNLOCK_PROOF, [bytes.fromhex(access_key["privateKeyHex"])]
        ),
    }


BUILDERS = {"device_sync.json": device_sync, "unlock_proof.json": unlock_proof}


if __name__ == "__main__":
    write(VECTORS, BUILDERS)
