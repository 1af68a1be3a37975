"""Writes for locks: provision into a property, install into an area, uninstall.

Each is one transaction with its event; the access model recomputes the lock's key map
from `lock.installed` / `lock.uninstalled`.
"""

from django.db import transaction
from django.utils import timezone

from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError
from apps.events.services import event_append
from apps.locks.models import Lock


@transaction.atomic
def lock_create(*, display_name: str, actor: str, prop=None, owner=None, lock_id=None) -> Lock:
    lock = Lock(display_name=display_name, property=prop, owner=owner, last_modified_by=actor)
    if lock_id is not None:
        lock.id = lock_id
    lock.full_clean()
    lock.save()
    event_append(event_name="lock.provisioned", actor=actor, lock_id=lock.id, property_id=lock.property_id)
    return lock


@transaction.atomic
def lock_install(*, lock: Lock, area, actor: str) -> Lock:
    """Put the lock on a door of `area` (same property, or a lock of no property yet)."""
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    if area.type_state == EntityTypeState.DELETED:
        raise ApplicationError("areaId: the area is deleted", fields={"areaId": ["The area is deleted."]})
    if lock.property_id is not None and lock.property_id != area.property_id:
        raise ApplicationError(
            "areaId: the area belongs to another property than the lock",
            fields={"areaId": ["The area belongs to another property than the lock."]},
        )
    previous_area_id = lock.area_id
    if previous_area_id == area.pk:
        return lock
    lock.property_id, lock.area, lock.install_date = area.property_id, area, timezone.now()
    lock.last_modified_by = actor
    lock.save()
    event_append(
        event_name="lock.installed",
        actor=actor,
        lock_id=lock.id,
        area_id=area.pk,
        property_id=area.property_id,
        payload={"previousAreaId": str(previous_area_id) if previous_area_id else None},
    )
    return lock


@transaction.atomic
def lock_uninstall(*, lock: Lock, actor: str, mode: str = "area") -> Lock:
    """Take the lock off its door. `mode`: `area` (stays in the property), `property`
    (leaves the property too), `owner` (also forgets its owner)."""
    if mode not in ("area", "property", "owner"):
        message = "Must be area, property or owner."
        raise ApplicationError(f"uninstallMode: {message}", fields={"uninstallMode": [message]})
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    previous_area_id, previous_property_id = lock.area_id, lock.property_id
    lock.area, lock.install_date = None, None
    if mode in ("property", "owner"):
        lock.property = None
    if mode == "owner":
        lock.owner = None
    lock.last_modified_by = actor
    lock.save()
    event_append(
        event_name="lock.uninstalled",
        actor=actor,
        lock_id=lock.id,
        area_id=previous_area_id,
        property_id=previous_property_id,
        payload={"uninstallMode": mode},
    )
    return lock
