"""Builds tests/locks/vectors/*.json (docs/PROTOCOL.md §6.8) from fixed inputs.

    python -m tests.locks.make_vectors     # rewrite the files (only with a context-version bump;
                                           # a protocol step adds a file, e.g. lock_sync_health.json)

Every secret is SHA-256 of a label; Ed25519 is deterministic and the seal takes its ephemeral
key and nonce from the vector, so the output is reproducible byte for byte. test_vectors.py
checks the stored files against this builder, and against the reference lock.
"""

import hashlib
from pathlib import Path

from apps.keys import canonical, crypto
from apps.locks import protocol  # pure: no Django
from tests.vectors import key_vector, secret, write
from tests.vectors import render as render  # test_vectors.py compares the files with make_vectors.render

VECTORS = Path(__file__).parent / "vectors"

PROPERTY_ID = "0190a1b2-0000-7000-8000-0000000000b1"
AREA_ID = "0190a1b2-0000-7000-8000-0000000000e1"
LOCK_ID = "0190a1b2-0000-7000-8000-0000000000f1"
RESIDENTS_ID = "0190a1b2-0000-7000-8000-0000000000a7"
ALICE_ID = "0190a1b2-0000-7000-8000-0000000000a1"
BOB_ID = "0190a1b2-0000-7000-8000-0000000000a2"
MALLORY_ID = "0190a1b2-0000-7000-8000-0000000000a3"
ALICE_DEVICE_ID = "0190a1b2-0000-7000-8000-0000000000d1"
BOB_DEVICE_ID = "0190a1b2-0000-7000-8000-0000000000d2"
MALLORY_DEVICE_ID = "0190a1b2-0000-7000-8000-0000000000d3"
GYM_HOURS_ID = "0190a1b2-0000-7000-8000-0000000000c2"
LOBBY_HOURS_ID = "0190a1b2-0000-7000-8000-0000000000c3"
# Thursday 26 March 2026, noon UTC: the 7-day map spans Europe/London's switch to summer time
# (Sunday 29 March, 01:00 UTC), so the intervals show the wall-clock rule.
ISSUED_AT = 1774526400
SYNC_SEQUENCE = 42
KEY_FIELDS = ("label", "privateKeyHex", "publicKey", "kid")  # a key as these files give it (tests/vectors.py)


def _signing(label: str) -> dict:
    return key_vector(crypto.ED25519, label, KEY_FIELDS)


def _sealing(label: str) -> dict:
    return key_vector(crypto.X25519, label, KEY_FIELDS)


def _access(label: str, user_device_id: str, key_id: str) -> dict:
    key = _signing(label)
    return {"kid": key["kid"], "publicKey": key["publicKey"], "userDeviceId": user_device_id, "keyId": key_id}


def _signed(payload: dict, context: str, key: dict) -> dict:
    text = canonical.canonical(payload).decode()
    signing_input = canonical.signing_input(payload, context)
    return {
        "context": context,
        "canonical": text,
        "signingInputSha256": hashlib.sha256(signing_input).hexdigest(),
        "signatures": canonical.sign_payload(payload, context, [bytes.fromhex(key["privateKeyHex"])]),
    }


def key_map() -> dict:
    property_key, property_seal = _signing("property signing key"), _sealing("property seal key")
    lines = [
        protocol.Line("group", RESIDENTS_ID, "", None, None),
        protocol.Line("group", RESIDENTS_ID, GYM_HOURS_ID, None, None),
        protocol.Line("user", BOB_ID, "", ISSUED_AT - 86400, ISSUED_AT + 2 * 86400),
        protocol.Line("deny", MALLORY_ID, "", None, None),
        protocol.Line("open", "", LOBBY_HOURS_ID, None, None),
    ]
    members = {RESIDENTS_ID: [ALICE_ID, MALLORY_ID]}
    keys = {
        ALICE_ID: [_access("device access key", ALICE_DEVICE_ID, "0190a1b2-0000-7000-8000-0000000000c1")],
        BOB_ID: [_access("bob access key", BOB_DEVICE_ID, "0190a1b2-0000-7000-8000-0000000000c4")],
        MALLORY_ID: [_access("mallory access key", MALLORY_DEVICE_ID, "0190a1b2-0000-7000-8000-0000000000c5")],
    }
    schedules = {
        GYM_HOURS_ID: {
            "windows": [
                {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00", "stop": "22:00"},
                {"days": ["sat"], "start": "22:00", "stop": "02:00"},
            ],
            "validFrom": None,
            "validUntil": None,
        },
        LOBBY_HOURS_ID: {
            "windows": [{"days": ["sun"], "start": "00:30", "stop": "03:00"}],
            "validFrom": None,
            "validUntil": "2026-04-01T00:00:00.000Z",
        },
    }
    content = protocol.key_map_content(
        lock_id=LOCK_ID,
        property_id=PROPERTY_ID,
        time_zone="Europe/London",
        lines=lines,
        members=members,
        keys=keys,
        schedules=schedules,
        property_keys=[{"kid": property_key["kid"], "publicKey": property_key["publicKey"]}],
        property_seal_key={"kid": property_seal["kid"], "publicKey": property_seal["publicKey"]},
    )
    payload = protocol.key_map_payload(content, version=7, issued_at=ISSUED_AT, not_after=ISSUED_AT + 7 * 86400)
    return {
        "description": "PROTOCOL.md §6.3: a key map built from derived lines, members and device keys, signed "
        "under keyhouse/lock-key-map/v1. Alice (Residents) twice (always; gym hours), Bob by a grant, Mallory "
        "blocked (deniedKids), the lobby in free passage on Sunday nights; Europe/London changes to summer time "
        "inside the map's week.",
        "propertyKey": property_key,
        "propertySealKey": property_seal,
        "inputs": {
            "lines": [line.__dict__ for line in lines],
            "members": members,
            "keys": keys,
            "schedules": schedules,
            "timeZone": "Europe/London",
            "keyMapVersion": 7,
            "issuedAt": ISSUED_AT,
            "notAfter": ISSUED_AT + 7 * 86400,
        },
        "content": content,
        "contentDigest": protocol.content_digest(content),
        "payload": payload,
        **_signed(payload, canonical.CONTEXT_LOCK_KEY_MAP, property_key),
        "keyMapDigest": protocol.payload_digest(payload),
    }


def lock_command() -> dict:
    property_key, property_seal, lock_key = (
        _signing("property signing key"),
        _sealing("property seal key"),
        _signing("lock key"),
    )
    command = protocol.command_payload(
        command="install",
        lock_id=LOCK_ID,
        lock_kid=lock_key["kid"],
        property_id=PROPERTY_ID,
        area_id=AREA_ID,
        sequence=2,
        issued_at=ISSUED_AT,
        not_after=ISSUED_AT + 86400,
        property_keys=[{"kid": property_key["kid"], "publicKey": property_key["publicKey"]}],
        property_seal_key={"kid": property_seal["kid"], "publicKey": property_seal["publicKey"]},
    )
    data = {
        "lockId": LOCK_ID,
        "externalRefs": [],
        "ownerId": None,
        "propertyId": PROPERTY_ID,
        "areaId": AREA_ID,
        "purchaseDate": None,
        "installDate": "2026-03-26T12:00:00.000Z",
        "private": None,
        "displayName": "Front door",
        "type": "lock",
        "typeState": "active",
        "createdAt": "2026-03-26T11:58:00.000Z",
        "lastModifiedAt": "2026-03-26T12:00:00.000Z",
        "lastModifiedBy": "apiKey:0190a1b2-0000-7000-8000-0000000000aa",
        "lockCommand": command,
    }
    return {
        "description": "PROTOCOL.md §6.2: the SignedLockOutput of installLock; `data` (the Lock plus lockCommand) "
        "is signed under keyhouse/lock-command/v1 by the property.",
        "propertyKey": property_key,
        "lockKey": lock_key,
        "data": data,
        **_signed(data, canonical.CONTEXT_LOCK_COMMAND, property_key),
    }


def lock_sync() -> dict:
    property_key, property_seal, lock_key = (
        _signing("property signing key"),
        _sealing("property seal key"),
        _signing("lock key"),
    )
    map_vector = key_map()
    ack_payload = {
        "lockId": LOCK_ID,
        "keyMapVersion": 7,
        "keyMapDigest": map_vector["keyMapDigest"],
        "appliedAt": ISSUED_AT + 600,
    }
    ack = _signed(ack_payload, canonical.CONTEXT_LOCK_ACK, lock_key)
    logs = {
        "logs": [
            {
                "sequence": 118,
                "accessDate": ISSUED_AT + 3600,
                "result": "granted",
                "reason": "unlock",
                "kid": map_vector["content"]["entries"][0]["kid"],
                "userGroupId": RESIDENTS_ID,
                "keyMapVersion": 7,
            },
            {
                "sequence": 119,
                "accessDate": ISSUED_AT + 3700,
                "result": "denied",
                "reason": "denied-key",
                "kid": map_vector["content"]["deniedKids"][0],
                "keyMapVersion": 7,
            },
        ]
    }
    plaintext = canonical.canonical(logs)
    aad = protocol.access_logs_aad(LOCK_ID, SYNC_SEQUENCE)
    ephemeral, nonce = secret("access logs ephemeral key"), secret("access logs nonce")[:12]
    sealed = crypto.seal(
        crypto.b64url_decode(property_seal["publicKey"]),
        plaintext,
        info=canonical.CONTEXT_SEAL_ACCESS_LOGS,
        aad=aad,
        _ephemeral_private=ephemeral,
        _nonce=nonce,
    )
    request = {
        "lockId": LOCK_ID,
        "syncSequence": SYNC_SEQUENCE,
        "syncDate": "2026-03-26T13:05:00.000Z",
        "currentKeyMapVersion": 7,
        "currentFirmwareVersion": "2.1.0",
        "encryptedAccessLogs": crypto.b64url_encode(sealed),
        "accessLogsKid": property_seal["kid"],
        "ack": {"payload": ack_payload, "signatures": ack["signatures"]},
        "nonce": crypto.b64url_encode(secret("sync nonce")[:16]),
    }
    response = {
        "lockId": LOCK_ID,
        "nonce": request["nonce"],
        "syncSequence": SYNC_SEQUENCE,
        "serverTime": ISSUED_AT + 3900,
        "accepted": True,
        "keyMapVersion": 8,
        "keyMapDigest": map_vector["keyMapDigest"],
        "encryptedKeyMapEntries": None,
        "requiredFirmwareVersion": "2.1.0",
        "acknowledgedKeyMapVersion": 7,
        "accessLogs": {"stored": 2, "duplicates": 0, "highestSequence": 119, "missing": [[101, 104]]},
    }
    return {
        "description": "PROTOCOL.md §6.4–§6.6, §8: a lock's signed sync request carrying sealed access logs "
        "(fixed ephemeral key and nonce) and its acknowledgement of key map 7, and the server's signed answer. "
        "(The answer's keyMapDigest reuses key map 7's digest only to keep the file short.)",
        "propertyKey": property_key,
        "propertySealKey": property_seal,
        "lockKey": lock_key,
        "ack": {"payload": ack_payload, **ack},
        "accessLogs": {
            "plaintext": plaintext.decode(),
            "aadHex": aad.hex(),
            "info": canonical.CONTEXT_SEAL_ACCESS_LOGS,
            "ephemeralPrivateKeyHex": ephemeral.hex(),
            "nonceHex": nonce.hex(),
            "sealedHex": sealed.hex(),
        },
        "request": {"payload": request, **_signed(request, canonical.CONTEXT_LOCK_SYNC_REQUEST, lock_key)},
        "response": {"payload": response, **_signed(response, canonical.CONTEXT_LOCK_SYNC_RESPONSE, property_key)},
    }


def lock_sync_health() -> dict:
    """Protocol 1.1 (§6.4.1): the same kind of request carrying `batteryLevel` and `doorState`,
    signed under the unchanged context (an added optional member is not a version bump)."""
    lock_key = _signing("lock key")
    request = {
        "lockId": LOCK_ID,
        "syncSequence": SYNC_SEQUENCE + 1,
        "syncDate": "2026-03-26T13:10:00.000Z",
        "currentKeyMapVersion": 7,
        "currentFirmwareVersion": "2.1.0",
        "encryptedAccessLogs": None,
        "accessLogsKid": None,
        "ack": None,
        "batteryLevel": 17,
        "doorState": "open",
        "nonce": crypto.b64url_encode(secret("sync nonce 1.1")[:16]),
    }
    return {
        "description": "PROTOCOL.md §6.4.1 (protocol 1.1): a lock's signed sync request reporting its battery "
        "(17 %, low) and its door (open), no logs and no ack. The members are signed like every other one; "
        "a 1.0 request (lock_sync.json) without them stays valid.",
        "lockKey": lock_key,
        "request": {"payload": request, **_signed(request, canonical.CONTEXT_LOCK_SYNC_REQUEST, lock_key)},
    }


BUILDERS = {
    "key_map.json": key_map,
    "lock_command.json": lock_command,
    "lock_sync.json": lock_sync,
    "lock_sync_health.json": lock_sync_health,
}


if __name__ == "__main__":
    write(VECTORS, BUILDERS)
