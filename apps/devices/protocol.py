"""PURE: the server side of device sync (docs/PROTOCOL.md §7), no Django.

- `sync_request_verify`: check a phone's `deviceSignature` over its sync input
  (context `keyhouse/device-sync-request/v1`, §3.2 signing input, §3.4 rules).
- `map_content` / `map_digest`: the per-device access map and the digest its version follows
  (`userAccessMapVersion` rises by one exactly when the digest changes).
- `map_document` / `map_aad` / `map_seal`: the sealed `encryptedUserAccessMapEntries`
  (info `keyhouse/user-access-map/v1`, aad binds the device and the version).
- `sync_response_payload`: what the property keys sign (`keyhouse/device-sync-response/v1`).
"""

import hashlib
from collections.abc import Iterable, Mapping

from apps.keys import canonical, crypto

# The members of a sync request payload (the body without `deviceSignature`), all required.
SYNC_REQUEST_FIELDS = (
    "userId",
    "userDeviceId",
    "syncDate",
    "syncCounter",
    "deviceType",
    "makeModel",
    "currentOsVersion",
    "currentAppVersion",
    "currentUserAccessMapVersion",
)
SIGNATURE_FIELD = "deviceSignature"
MAP_FORMAT = "keyhouse-user-access-map/1"


def sync_request_payload(body: Mapping) -> dict:
    """The signed payload of a sync request: the body without `deviceSignature`."""
    return {name: value for name, value in body.items() if name != SIGNATURE_FIELD}


def sync_request_verify(payload: Mapping, device_signature: str, sync_public_key: bytes) -> None:
    """Return if `device_signature` is the device's Ed25519 signature of `payload`.

    Raises canonical.MalformedMessage (not base64url, payload outside the profile) or
    crypto.InvalidSignature (any other key, any changed byte, another context).
    """
    kid = crypto.key_id(crypto.ED25519, sync_public_key)
    canonical.verify_signatures(
        dict(payload), {kid: device_signature}, canonical.CONTEXT_DEVICE_SYNC_REQUEST, [sync_public_key]
    )


def map_entry(
    *,
    property_id: str,
    area_id: str | None,
    lock_id: str,
    lock_kid: str | None,
    schedule: dict | None,
    valid_from,
    valid_until,
) -> dict:
    """One UserAccessMapEntry: a lock this device may open, when (`schedule`) and between which instants."""
    return {
        "propertyId": property_id,
        "areaId": area_id,
        "lockId": lock_id,
        "lockKid": lock_kid,
        "schedule": schedule,
        "validFrom": valid_from,
        "validUntil": valid_until,
    }


def _entry_order(entry: Mapping) -> tuple:
    schedule = entry["schedule"] or {}
    return (
        entry["propertyId"],
        entry["lockId"],
        schedule.get("scheduleId") or "",
        entry["validFrom"] or "",
        entry["validUntil"] or "",
    )


def map_content(
    *,
    user_id: str,
    user_device_id: str,
    access_key_id: str,
    access_kid: str,
    properties: Iterable[Mapping],
    entries: Iterable[Mapping],
) -> dict:
    """The content of a device's access map: everything the version stands for.

    Entries are deduplicated (two groups granting the same lock, schedule and validity are
    one entry: the sources are not part of the map) and sorted, properties sorted by id, so
    equal access always gives equal bytes.
    """
    unique = {canonical.canonical(dict(entry)): dict(entry) for entry in entries}
    return {
        "format": MAP_FORMAT,
        "userId": user_id,
        "userDeviceId": user_device_id,
        "accessKeyId": access_key_id,
        "accessKid": access_kid,
        "properties": sorted((dict(p) for p in properties), key=lambda p: p["propertyId"]),
        "entries": sorted(unique.values(), key=_entry_order),
    }


def map_digest(content: Mapping) -> str:
    """SHA-256 (hex) of the canonical bytes of the map content."""
    return hashlib.sha256(canonical.canonical(dict(content))).hexdigest()


def map_document(content: Mapping, *, version: str, issued_at: str, not_after: str) -> dict:
    """The plaintext that is sealed: the content plus its version and validity."""
    return {**content, "userAccessMapVersion": version, "issuedAt": issued_at, "notAfter": not_after}


def map_aad(*, user_device_id: str, version: str) -> bytes:
    """Associated data of a sealed map: binds the blob to one device and one version."""
    return canonical.canonical({"userAccessMapVersion": version, "userDeviceId": user_device_id})


def map_seal(document: Mapping, *, seal_public_key: bytes, **seal_options) -> str:
    """base64url of the map document sealed to the device's X25519 deviceSyncKey."""
    aad = map_aad(user_device_id=document["userDeviceId"], version=document["userAccessMapVersion"])
    sealed = crypto.seal(
        seal_public_key,
        canonical.canonical(dict(document)),
        info=canonical.CONTEXT_SEAL_USER_ACCESS_MAP,
        aad=aad,
        **seal_options,
    )
    return crypto.b64url_encode(sealed)


def sync_response_payload(
    *,
    user_id: str,
    user_device_id: str,
    sync_counter: int,
    server_time: str,
    version: str,
    not_after: str,
    sealed: list[str] | None,
) -> dict:
    """`data` of a sync response (signed by the property keys): answers syncCounter, carries
    server time, the device's current map version and how long that version is valid."""
    return {
        "userId": user_id,
        "userDeviceId": user_device_id,
        "syncCounter": sync_counter,
        "serverTime": server_time,
        "userAccessMapVersion": version,
        "notAfter": not_after,
        "encryptedUserAccessMapEntries": sealed,
    }
