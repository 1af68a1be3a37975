"""Writes for user devices: provision, update, deprovision, sync (docs/PROTOCOL.md §7).

Each write is one transaction with its event: `device.provisioned`, `device.updated`,
`device.deprovisioned` (refs `user_id`, `user_device_id`). The lock side rebuilds key maps
on `device.provisioned` / `device.deprovisioned` from `selectors.device_access_keys`.
A sync records device state (counter, versions, last sync) with one conditional UPDATE and no
event.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.core.timestamps import format_timestamp
from apps.devices import protocol, selectors
from apps.devices.models import UserDevice
from apps.events.services import event_append
from apps.keys import canonical, crypto
from apps.keys import selectors as key_selectors
from apps.keys import services as key_services
from apps.keys.choices import KeyKeyMode, KeyOwnerType, KeyPurpose

logger = logging.getLogger("keyhouse.devices")


def _event(event_name: str, device: UserDevice, actor: str, **payload) -> None:
    event_append(
        event_name=event_name,
        actor=actor,
        payload={"displayName": device.display_name, "deviceType": device.device_type, **payload},
        user_id=device.user_id,
        user_device_id=device.id,
    )


def _register(device: UserDevice, purpose: str, key_mode: str, public_key: bytes, field: str, actor: str):
    try:
        return key_services.key_register_public(
            owner_type=KeyOwnerType.USER_DEVICE,
            owner_id=device.id,
            property_id=None,
            purpose=purpose,
            key_mode=key_mode,
            public_key=public_key,
            actor=actor,
        )
    except ApplicationError as exc:  # name the request field, not the key layer's `publicKey`
        message = exc.message.split(": ", 1)[-1]
        raise type(exc)(f"{field}: {message}", fields={field: [message]}, status=exc.status) from None


@transaction.atomic
def user_device_provision(
    *,
    user,
    device_type: str,
    make_model: str,
    display_name: str,
    access_public_key: bytes,
    sync_public_key: bytes,
    seal_public_key: bytes,
    actor: str,
) -> UserDevice:
    """Register a phone and its three public keys (event `device.provisioned`).

    A public key already registered anywhere is a 409 naming the field, and nothing is
    written: one phone can never claim another's key.
    """
    if user.type_state == EntityTypeState.DELETED:
        raise ApplicationError("userId: this user is deleted")
    device = UserDevice(
        user=user, device_type=device_type, make_model=make_model, display_name=display_name, last_modified_by=actor
    )
    device.access_key = _register(
        device, KeyPurpose.DEVICE_ACCESS_KEY, KeyKeyMode.SIGN_VERIFY, access_public_key, "deviceAccessPublicKey", actor
    )
    device.sync_key = _register(
        device, KeyPurpose.DEVICE_SYNC_KEY, KeyKeyMode.SIGN_VERIFY, sync_public_key, "deviceSyncPublicKey", actor
    )
    device.seal_key = _register(
        device,
        KeyPurpose.DEVICE_SYNC_KEY,
        KeyKeyMode.ENCRYPT_DECRYPT,
        seal_public_key,
        "deviceSyncEncryptionPublicKey",
        actor,
    )
    device.full_clean()
    device.save(force_insert=True)
    _event("device.provisioned", device, actor, accessKid=device.access_key.kid)
    logger.info("device %s provisioned for user %s", device.id, device.user_id)
    return device


@transaction.atomic
def user_device_update(*, device: UserDevice, display_name: str, actor: str) -> UserDevice:
    """Rename a device (event `device.updated` when the name changes)."""
    device = UserDevice.objects.select_for_update().get(pk=device.pk)
    if device.deprovisioned_at is not None:
        raise ApplicationError("this device is deprovisioned", status=409)
    if device.display_name == display_name:
        return device
    previous = device.display_name
    device.display_name, device.last_modified_by = display_name, actor
    device.full_clean()
    device.save(update_fields=["display_name", "last_modified_by", "last_modified_at"])
    _event("device.updated", device, actor, previousDisplayName=previous)
    return device


@transaction.atomic
def user_device_deprovision(*, device: UserDevice, actor: str) -> UserDevice:
    """Soft-delete a device and deactivate its three keys (event `device.deprovisioned`).

    Its access key leaves every lock's key map when the lock side processes the event;
    until a lock syncs, the key map's `notAfter` bounds how long the old map is honoured.
    Deprovisioning twice changes nothing.
    """
    device = (
        UserDevice.objects.select_for_update().select_related("access_key", "sync_key", "seal_key").get(pk=device.pk)
    )
    if device.deprovisioned_at is not None:
        return device
    device.access_key, device.sync_key, device.seal_key = (
        key_services.key_deactivate(key=key, actor=actor)
        for key in (device.access_key, device.sync_key, device.seal_key)
    )
    device.deprovisioned_at = timezone.now()
    device.type_state, device.last_modified_by = EntityTypeState.DELETED, actor
    device.save(update_fields=["deprovisioned_at", "type_state", "last_modified_by", "last_modified_at"])
    _event("device.deprovisioned", device, actor, accessKid=device.access_key.kid)
    logger.info("device %s deprovisioned (user %s)", device.id, device.user_id)
    return device


def user_devices_deprovision(*, user_id, actor: str) -> int:
    """Deprovision every device of a person (a deleted user keeps no working phone)."""
    devices = list(UserDevice.objects.filter(user_id=user_id, deprovisioned_at__isnull=True))
    for device in devices:
        user_device_deprovision(device=device, actor=actor)
    return len(devices)


# --- sync (docs/PROTOCOL.md §7.3–§7.5) -------------------------------------------------------


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


def _property_signing_keys(property_ids: list[str], actor: str) -> dict:
    """{property_id: the property's active signing key}, generated on first use. Phones get the
    active key only (why: apps.keys.selectors, "which property keys sign")."""
    keys = key_selectors.property_active_signing_keys(property_ids)
    for property_id in property_ids:
        if property_id not in keys:
            keys[property_id] = key_services.property_key_ensure(property_id=property_id, actor=actor)
    return keys


_REPORTED = {  # model field: sync input member, as the device reports it
    "current_os_version": "currentOsVersion",
    "current_app_version": "currentAppVersion",
    "current_user_access_map_version": "currentUserAccessMapVersion",
    "make_model": "makeModel",
}


def _next_version(device: UserDevice, digest: str, held: str) -> int:
    """The map version this sync records: one more than the stored one when the digest differs.

    A phone holding a version above the stored one (`held`, its currentUserAccessMapVersion)
    holds a map this server has no record of: the server was restored from a backup. The next
    version is then above the phone's, so the phone accepts the map (PROTOCOL.md §9.6)."""
    reported = int(held) if held.isascii() and held.isdigit() and len(held) <= 9 else 0
    if reported > device.map_version:
        return reported + 1
    return device.map_version + (digest != device.map_digest)


def _seal_map(device: UserDevice, document: dict) -> str:
    """The sealed map, or 409 naming the device's X25519 key when nothing can be sealed to it (a
    weak key registered before PROTOCOL.md §2.4 was enforced): only a new device can fix that."""
    try:
        return protocol.map_seal(document, seal_public_key=device.seal_key.public_key_bytes)
    except crypto.SealError as exc:
        logger.warning("device %s: cannot seal its access map: %s", device.pk, exc)
        raise _refuse(
            "deviceSyncEncryptionPublicKey",
            "the X25519 key this device was provisioned with cannot be sealed to (a weak key): "
            "deprovision the device and provision it again with new keys",
            status=409,
        ) from None


def _take_report(device: UserDevice, payload: dict) -> None:
    """Copy what the device reports onto `device` (not saved) and validate it (lengths: 400)."""
    for name, member in _REPORTED.items():
        setattr(device, name, payload[member])
    # The keys and owner did not change.
    device.full_clean(
        exclude=["user", "access_key", "sync_key", "seal_key"], validate_unique=False, validate_constraints=False
    )


def _record_sync(device: UserDevice, payload: dict, digest: str, now) -> int:
    """Record an accepted sync (reported values taken by `_take_report`) and return the map
    version: one UPDATE, applied only while the counter and map version are still those
    `device` was read with (else a concurrent sync or a deprovisioning came first: 409 / 404,
    nothing written). The version rises by one when the map's digest differs from the stored
    one (`_next_version`). Not last_modified_*: a sync is the device reporting, not someone
    editing it."""
    version = _next_version(device, digest, payload["currentUserAccessMapVersion"])
    recorded = UserDevice.objects.filter(
        pk=device.pk,
        deprovisioned_at__isnull=True,
        last_sync_counter=device.last_sync_counter,
        map_version=device.map_version,
    ).update(
        last_sync_counter=payload["syncCounter"],
        last_known_sync_date=now,
        map_version=version,
        map_digest=digest,
        **{name: getattr(device, name) for name in _REPORTED},
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

    The checks and the map are computed first; the sync is then recorded by one UPDATE that
    applies only if the row is still as read (compare-and-set on the counter and the map
    version): no transaction held while the map is computed (on SQLite, whose writers queue for
    the whole database, concurrent phone syncs would wait for each other), and a sync overtaken
    by a concurrent one is refused like a replay (409), one racing a deprovisioning gets 404.
    """
    now = now or timezone.now()
    device = (
        UserDevice.objects.select_related("access_key", "sync_key")  # seal_key: read when a map is sent
        .filter(pk=user_device_id, user_id=user_id, deprovisioned_at__isnull=True)
        .first()
    )
    if device is None:
        raise ApplicationError("not found", status=404)
    _check_request(device, payload, device_signature, sync_date, now)

    maps = selectors.access_maps_for_user(user_id=device.user_id)
    property_keys = _property_signing_keys([str(m.property_id) for m in maps], actor)
    content = selectors.user_device_map_content(device=device, maps=maps, property_keys=property_keys)
    digest = protocol.map_digest(content)
    version = str(_next_version(device, digest, payload["currentUserAccessMapVersion"]))
    _take_report(device, payload)

    server_time = format_timestamp(now)
    not_after = format_timestamp(now + dt.timedelta(seconds=settings.KEYHOUSE_DEVICE_MAP_TTL_SECONDS))
    sealed = None
    if payload["currentUserAccessMapVersion"] != version:
        document = protocol.map_document(content, version=version, issued_at=server_time, not_after=not_after)
        sealed = [_seal_map(device, document)]  # before recording: a refusal changes nothing
    _record_sync(device, payload, digest, now)  # records `version`, or refuses (409 / 404)

    data = protocol.sync_response_payload(
        user_id=str(device.user_id),
        user_device_id=str(device.pk),
        sync_counter=payload["syncCounter"],
        server_time=server_time,
        version=version,
        not_after=not_after,
        sealed=sealed,
    )
    signers = [key_services.key_private(key=key) for key in property_keys.values()]
    signatures = canonical.sign_payload(data, canonical.CONTEXT_DEVICE_SYNC_RESPONSE, signers) if signers else {}
    return SyncResult(data=data, signatures=signatures)
