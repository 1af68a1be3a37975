"""Reads of user devices: scoped lists, one device, and the access keys lock key maps carry."""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import QuerySet

from apps.core.choices import EntityTypeState
from apps.devices.models import UserDevice
from apps.keys import crypto


def user_device_list(*, user_id) -> QuerySet[UserDevice]:
    """A person's provisioned devices with their keys (what listUserDevices returns), oldest first."""
    return (
        UserDevice.objects.filter(user_id=user_id, deprovisioned_at__isnull=True)
        .exclude(type_state=EntityTypeState.DELETED)
        .select_related("access_key", "sync_key", "seal_key")
        .prefetch_related("external_refs")
        .order_by("id")
    )


def user_device_get(*, user_id, user_device_id) -> UserDevice | None:
    """One provisioned device of that person, or None (another person's device is None too)."""
    return user_device_list(user_id=user_id).filter(pk=user_device_id).first()


def device_ids_for_users(user_ids: Iterable) -> dict[str, list[str]]:
    """{str(user_id): [str(device_id), ...]} of provisioned devices, in one query (User.deviceIds)."""
    result: dict[str, list[str]] = defaultdict(list)
    rows = (
        UserDevice.objects.filter(user_id__in=list(user_ids), deprovisioned_at__isnull=True)
        .exclude(type_state=EntityTypeState.DELETED)
        .order_by("id")
        .values_list("user_id", "id")
    )
    for user_id, device_id in rows:
        result[str(user_id)].append(str(device_id))
    return dict(result)


def access_keys_for_users(user_ids: Iterable) -> dict[str, list[dict]]:
    """The deviceAccessKeys lock key maps carry, per person, in one query.

    {str(user_id): [{"kid", "publicKey" (base64url Ed25519), "userDeviceId", "keyId"}, ...]}
    for active, provisioned devices of live people whose access key is active. A person with
    no such device is absent. Deprovisioning (event `device.deprovisioned`) drops the key.
    """
    result: dict[str, list[dict]] = defaultdict(list)
    rows = (
        UserDevice.objects.filter(
            user_id__in=list(user_ids),
            type_state=EntityTypeState.ACTIVE,
            deprovisioned_at__isnull=True,
            access_key__type_state=EntityTypeState.ACTIVE,
            user__is_active=True,
        )
        .exclude(user__type_state=EntityTypeState.DELETED)
        .order_by("id")
        .values_list("user_id", "id", "access_key_id", "access_key__kid", "access_key__public_key")
    )
    for user_id, device_id, key_id, kid, public_key in rows:
        result[str(user_id)].append(
            {
                "kid": kid,
                "publicKey": crypto.b64url_encode(bytes(public_key)),
                "userDeviceId": str(device_id),
                "keyId": str(key_id),
            }
        )
    return dict(result)
