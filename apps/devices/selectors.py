"""Reads of user devices: scoped lists, one device, and the access keys lock key maps carry."""

from collections import defaultdict
from collections.abc import Iterable

from django.db.models import OuterRef, QuerySet, Subquery

from apps.access import doors
from apps.access.derive import schedule_content
from apps.access.models import Schedule, UserAccessMap
from apps.core.choices import EntityTypeState
from apps.devices import protocol
from apps.devices.models import UserDevice
from apps.keys import crypto
from apps.properties.models import Property


def user_device_list(*, user_id) -> QuerySet[UserDevice]:
    """A person's provisioned devices with their keys (what listUserDevices returns), oldest first."""
    return (
        UserDevice.objects.filter(user_id=user_id, deprovisioned_at__isnull=True)
        .exclude(type_state=EntityTypeState.DELETED)
        .select_related("access_key", "sync_key", "seal_key")
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


def device_access_keys(user_ids: Iterable) -> dict[str, list[dict]]:
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


# --- the device's access map (docs/PROTOCOL.md §7.4) ----------------------------------------


def access_maps_for_user(*, user_id) -> list:
    """The person's derived access maps (apps.access UserAccessMap) that name at least one lock,
    at live properties, each annotated with its property's `time_zone`; one query."""

    live = Property.objects.alive().filter(pk=OuterRef("property_id"))
    return list(
        UserAccessMap.objects.filter(user_id=user_id)
        .exclude(entries=[])
        .annotate(time_zone=Subquery(live.values("time_zone")[:1]))
        .filter(time_zone__isnull=False)
        .order_by("property_id")
    )


def user_device_map_content(*, device: UserDevice, maps: list, property_keys: dict) -> dict:
    """The content of a device's access map (PROTOCOL.md §7.5), built from the person's derived
    access `maps` (access_maps_for_user, docs/ACCESS.md) and `property_keys`
    ({property_id: the property's signing Key}); a fixed number of queries, whatever the size.
    """

    property_ids = sorted(str(m.property_id) for m in maps)
    zones = {str(m.property_id): m.time_zone for m in maps}
    rows = [(str(m.property_id), e) for m in maps for e in m.entries]
    schedule_ids = {e["scheduleId"] for _, e in rows if e.get("scheduleId")}
    lock_ids = sorted({e["lockId"] for _, e in rows})
    schedules = {str(s.pk): s for s in Schedule.objects.filter(pk__in=schedule_ids)} if schedule_ids else {}
    locks = doors.areas_and_kids(lock_ids)

    entries = []
    for property_id, entry in rows:
        schedule = None
        if entry.get("scheduleId"):
            found = schedules.get(entry["scheduleId"])
            if found is None:
                continue  # a schedule deleted since the map was derived: the next refresh drops it
            schedule = {"scheduleId": entry["scheduleId"], **schedule_content(found)}
        area_id, lock_kid = locks.get(entry["lockId"], (None, None))
        entries.append(
            protocol.map_entry(
                property_id=property_id,
                area_id=area_id,
                lock_id=entry["lockId"],
                lock_kid=lock_kid,
                schedule=schedule,
                valid_from=entry.get("validFrom"),
                valid_until=entry.get("validUntil"),
            )
        )
    properties = [
        {
            "propertyId": property_id,
            "timeZone": zones.get(property_id, "UTC"),
            "signingKeys": [
                {
                    "kid": property_keys[property_id].kid,
                    "publicKey": crypto.b64url_encode(property_keys[property_id].public_key_bytes),
                }
            ],
        }
        for property_id in property_ids
    ]
    return protocol.map_content(
        user_id=str(device.user_id),
        user_device_id=str(device.pk),
        access_key_id=str(device.access_key_id),
        access_kid=device.access_key.kid,
        properties=properties,
        entries=entries,
    )
