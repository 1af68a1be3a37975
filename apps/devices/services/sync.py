"""syncUserDevice (docs/PROTOCOL.md §7.3–§7.5): verify the phone's signed request, record it,
answer signed by the property keys, with the device's stored sealed map when the phone's
version differs.

A no-change sync (the phone holds the current version and the stored map is current) reads
the device with its sync key, its stored map and that map's property signing key in one query, and
writes one UPDATE: nothing of the person's access (with authentication, 3 queries). The map is
built by the worker (services.maps); a sync that finds it not built yet (a new device, or the
worker behind) builds and stores it inline once.
"""

import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.core.prepared import PreparedSelect, PreparedUpdate
from apps.core.timestamps import format_timestamp
from apps.devices import protocol
from apps.devices.models import DeviceMap, UserDevice
from apps.devices.services import maps
from apps.keys import canonical, crypto
from apps.keys import selectors as key_selectors
from apps.keys import services as key_services

logger = logging.getLogger("keyhouse.devices")


@dataclass(frozen=True)
class SyncResult:
    """What `user_device_sync` answers: the signed `data` and its `signatures` ({kid: sig})."""

    data: dict
    signatures: dict[str, str]

    @property
    def delivered(self) -> bool:
        return self.data["encryptedUserAccessMapEntries"] is not None


def _refuse(field: str, message: str, *, status: int = 400, **extra) -> ApplicationError:
    cls = ConflictError if status == 409 else ApplicationError
    return cls(f"{field}: {message}", fields={field: [message]}, extra=extra, status=status)


def _check_request(device: UserDevice, payload: dict, device_signature: str, sync_date: dt.datetime, now) -> None:
    """Refuse a request that is not this device's, not signed by it, stale or replayed.
    Order matters: nothing about the device's state is revealed before the signature holds."""
    for field, expected in (("userId", str(device.user_id)), ("userDeviceId", str(device.pk))):
        if payload[field] != expected:
            raise _refuse(field, "does not match the path: this request was signed for another device")
    if device.sync_key.type_state != EntityTypeState.ACTIVE:
        raise _refuse("deviceSignature", "this device's sync key is no longer active", status=401)
    try:
        protocol.sync_request_verify(payload, device_signature, device.sync_key.public_key_bytes)
    except canonical.MalformedMessage as exc:
        raise _refuse("deviceSignature", f"malformed: {exc}") from None
    except crypto.InvalidSignature:
        raise _refuse("deviceSignature", "does not verify with this device's deviceSyncKey", status=401) from None
    skew = settings.KEYHOUSE_DEVICE_SYNC_MAX_SKEW_SECONDS
    if abs((now - sync_date).total_seconds()) > skew:
        raise _refuse(
            "syncDate",
            f"more than {skew} s from server time; set the clock from serverTime and sign again",
            serverTime=format_timestamp(now),
        )
    _check_counter(device, payload)
    if payload["deviceType"] != device.device_type:
        raise _refuse("deviceType", f"this device was provisioned as {device.device_type}")


def _check_counter(device: UserDevice, payload: dict) -> None:
    if payload["syncCounter"] <= device.last_sync_counter:
        raise _refuse(
            "syncCounter",
            "not above the last accepted counter: a replayed or reordered sync",
            status=409,
            lastSyncCounter=device.last_sync_counter,
        )


_REPORTED = {  # model field: sync input member, as the device reports it
    "current_os_version": "currentOsVersion",
    "current_app_version": "currentAppVersion",
    "current_user_access_map_version": "currentUserAccessMapVersion",
    "make_model": "makeModel",
}


def _take_report(device: UserDevice, payload: dict) -> None:
    """Copy what the device reports onto `device` (not saved) and validate it (lengths: 400)."""
    for name, member in _REPORTED.items():
        setattr(device, name, payload[member])
    # The keys and owner did not change.
    device.full_clean(
        exclude=["user", "access_key", "sync_key", "seal_key"], validate_unique=False, validate_constraints=False
    )


_RECORD = PreparedUpdate(
    UserDevice,
    where=("pk", "deprovisioned_at__isnull", "last_sync_counter", "map_version"),
    fields=("last_sync_counter", "last_known_sync_date", "map_version", "map_digest", *_REPORTED),
)


def _record_sync(device: UserDevice, payload: dict, digest: str, version: int, now) -> int:
    """Record an accepted sync (reported values taken by `_take_report`) and the map `version`
    of `digest`: one UPDATE, applied only while the counter and map version are still those
    `device` was read with (else a concurrent sync, a deprovisioning or the worker moving the
    version came first: 409 / 404, nothing written). Not last_modified_*: a sync is the device
    reporting, not someone editing it."""
    recorded = _RECORD.run(
        (device.pk, device.last_sync_counter, device.map_version),
        (payload["syncCounter"], now, version, digest, *(getattr(device, name) for name in _REPORTED)),
    )
    if recorded:
        device.last_sync_counter, device.last_known_sync_date = payload["syncCounter"], now
        device.map_version, device.map_digest = version, digest
        return version
    current = UserDevice.objects.filter(pk=device.pk, deprovisioned_at__isnull=True).first()
    if current is None:
        raise ApplicationError("not found", status=404)
    raise _refuse(
        "syncCounter",
        "another sync of this device was recorded meanwhile: sign a new request with a higher counter",
        status=409,
        lastSyncCounter=current.last_sync_counter,
    )


def _seal_inline(device: UserDevice, computed, version: int, now) -> str:
    """The sealed map, or 409 naming the device's X25519 key when nothing can be sealed to it (a
    weak key registered before PROTOCOL.md §2.4 was enforced): only a new device can fix that."""
    try:
        return maps.map_seal(device, computed, version, now)[0]
    except crypto.SealError as exc:
        logger.warning("device %s: cannot seal its access map: %s", device.pk, exc)
        raise _refuse(
            "deviceSyncEncryptionPublicKey",
            "the X25519 key this device was provisioned with cannot be sealed to (a weak key): "
            "deprovision the device and provision it again with new keys",
            status=409,
        ) from None


def _stored_signers(stored: DeviceMap) -> dict:
    """{property_id: its active signing key} for the stored map's properties: the key read with
    the device (a one-property map's, models.DeviceMap.signing_key) while it is still the active
    one, else one query (several properties, a key rotated, a map stored before the column)."""
    properties, key = stored.properties, stored.signing_key
    if len(properties) == 1 and key is not None and key_selectors.is_property_active_signer(key, properties[0]):
        return {properties[0]: key}
    return key_selectors.property_active_signing_keys(properties)


def _stored_map(device: UserDevice, held: str) -> DeviceMap | None:
    """The device's stored map if a sync may answer from it: built, current, of the device's
    version, and the phone not ahead of it (a restored server, §9.6: the inline build moves past)."""
    try:
        stored = device.built_map
    except DeviceMap.DoesNotExist:
        return None
    if not stored.current or stored.version != device.map_version:
        return None
    if held.isdigit() and len(held) <= 9 and int(held) > stored.version:
        return None
    return stored


# The device with its sync key and stored map, built and compiled once per process
# (core.prepared: 555 µs a sync on PostgreSQL). The access and seal keys are read only by a sync
# that builds the map inline (their joins would cost every sync).
_DEVICE = PreparedSelect(
    lambda device_id, user_id: UserDevice.objects.select_related("sync_key", "built_map__signing_key").filter(
        pk=device_id, user_id=user_id, deprovisioned_at__isnull=True
    ),
    uuid.UUID,
    uuid.UUID,
)


def user_device_sync(
    *,
    user_id,
    user_device_id,
    payload: dict,
    device_signature: str,
    sync_date: dt.datetime,
    actor: str,
    now=None,
) -> SyncResult:
    """Verify a phone's signed sync input, record it, and answer with the device's access map
    sealed to it when the phone's version differs from the current one (PROTOCOL.md §7.3).

    Refusals change nothing: wrong device ids or a stale clock (400), a bad signature (401),
    a replayed counter or a device key nothing can be sealed to (409), a deprovisioned device
    (404). No event: syncs are frequent, and what they record (versions, last sync) is device
    state, not a domain change.

    The answer comes from the stored map (services.maps) when it is current; else the map is
    computed and sealed here once, and stored after the sync is recorded. The sync is recorded by
    one UPDATE that applies only if the row is still as read (compare-and-set on the counter and
    the map version): no transaction held while a map is computed (on SQLite, whose writers
    queue for the whole database, concurrent phone syncs would wait for each other), and a sync
    overtaken by a concurrent one (or by the worker moving the version) is refused like a replay
    (409), one racing a deprovisioning gets 404.
    """
    now = now or timezone.now()
    device = _DEVICE.first(user_device_id, user_id)
    if device is None:
        raise ApplicationError("not found", status=404)
    _check_request(device, payload, device_signature, sync_date, now)
    held = payload["currentUserAccessMapVersion"]

    stored = _stored_map(device, held)
    if stored is not None:
        version, digest = stored.version, stored.digest
        property_keys = _stored_signers(stored)
        sealed = None if held == str(version) else [stored.sealed]
        _take_report(device, payload)
        _record_sync(device, payload, digest, version, now)  # or refuses (409 / 404)
    else:  # not built yet: build inline once (PROTOCOL.md §7.5) and store it
        generation = maps.map_generation(device.pk)  # before computing; fences a first build
        computed = maps.map_compute(device, actor)
        version, digest = maps.next_version(device, computed.digest, held), computed.digest
        property_keys = computed.property_keys
        blob = _seal_inline(device, computed, version, now)  # before recording: a refusal changes nothing
        sealed = None if held == str(version) else [blob]
        _take_report(device, payload)
        _record_sync(device, payload, digest, version, now)  # or refuses (409 / 404)
        maps.map_store(device, computed, version=version, sealed=blob, now=now, generation=generation)

    server_time = format_timestamp(now)
    data = protocol.sync_response_payload(
        user_id=str(device.user_id),
        user_device_id=str(device.pk),
        sync_counter=payload["syncCounter"],
        server_time=server_time,
        version=str(version),
        not_after=format_timestamp(now + dt.timedelta(seconds=settings.KEYHOUSE_DEVICE_MAP_TTL_SECONDS)),
        sealed=sealed,
    )
    signers = [key_services.key_private(key=key) for key in property_keys.values()]
    signatures = canonical.sign_payload(data, canonical.CONTEXT_DEVICE_SYNC_RESPONSE, signers) if signers else {}
    return SyncResult(data=data, signatures=signatures)
