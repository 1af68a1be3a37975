"""Writes for user devices: provision, update, deprovision (docs/PROTOCOL.md §7.2, §7.7).

Each write is one transaction with its event: `device.provisioned`, `device.updated`,
`device.deprovisioned` (refs `user_id`, `user_device_id`). The lock side rebuilds key maps
on `device.provisioned` / `device.deprovisioned` from `selectors.device_access_keys`.
Syncs are services.sync; device maps services.maps.
"""

import logging

from django.db import transaction
from django.utils import timezone

from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError
from apps.devices.models import UserDevice
from apps.events.services import event_append
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
