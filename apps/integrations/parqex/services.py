"""The ParqEx poll: doors -> locks through the lock services (docs/INTEGRATIONS.md "ParqEx").

One read of `/sync`, then one short transaction per door that changed. A door whose digest,
link and presence are as stored is skipped without a write, so an unchanged poll writes only
the run's counts and the account's poll time (the scaffolding's claim and finish).
"""

import logging

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from apps.core.choices import ExternalRefSyncDirection, ExternalRefSyncStatus
from apps.core.models import ExternalRef
from apps.events.services import event_append
from apps.integrations.mapping import MappingError
from apps.integrations.models import IntegrationAccount, ParqExDoor
from apps.integrations.parqex import mapping
from apps.integrations.parqex.client import ParqExClient, http_for_token
from apps.integrations.registry import PollContext
from apps.locks.models import Lock
from apps.locks.services import lock_activity_set, lock_create, lock_health_record, lock_update

logger = logging.getLogger("keyhouse.integrations.parqex")

SOURCE = "parqex"
DEFAULT_SITE_TZ = "UTC"  # the seed's times carry no zone (docs/INTEGRATIONS.md "ParqEx")
DOOR_FIELDS = (
    "entity_number",
    "controller_id",
    "blackbox_code",
    "software_version",
    "controller_last_contact",
    "time_before_door_open_alert",
    "entities_controlled",
    "active",
    "door_state",
    "last_toggled",
    "battery_level",
    "auto_close_enabled",
    "auto_close_delay_seconds",
    "user_relationship",
    "digest",
    "missing_since",
)


def _actor(account: IntegrationAccount) -> str:
    return f"parqex:{account.display_name}"[:120]


def _fields(values: mapping.DoorValues) -> dict:
    c = values.controller
    return {
        "entity_number": values.entity_number,
        "controller_id": c.external_id,
        "blackbox_code": c.blackbox_code,
        "software_version": c.software_version,
        "controller_last_contact": c.last_contact,
        "time_before_door_open_alert": c.time_before_door_open_alert,
        "entities_controlled": c.entities_controlled,
        "active": values.active,
        "door_state": values.door_state,
        "last_toggled": values.last_toggled,
        "battery_level": values.battery_level,
        "auto_close_enabled": values.auto_close_enabled,
        "auto_close_delay_seconds": values.auto_close_delay_seconds,
        "user_relationship": values.user_relationship,
        "digest": values.digest,
        "missing_since": None,
    }


def _health(lock, values: mapping.DoorValues, actor: str) -> None:
    """The door's health as ParqEx reports it (held open after the auto-close delay when
    auto-close is on, else after the controller's `time_before_door_open_alert`)."""
    held_after = (
        values.auto_close_delay_seconds if values.auto_close_enabled else values.controller.time_before_door_open_alert
    )
    lock_health_record(
        lock=lock,
        source=SOURCE,
        actor=actor,
        door_state=values.door_state,
        door_changed_at=values.last_toggled,
        held_open_after_seconds=held_after,
        battery_level=values.battery_level,
        last_contact_at=values.controller.last_contact,
    )


def _payload(account: IntegrationAccount, door_id: str, **extra) -> dict:
    return {"accountId": str(account.pk), "accountName": account.display_name, "doorId": door_id, **extra}


@transaction.atomic
def parqex_door_create(*, account: IntegrationAccount, values: mapping.DoorValues) -> ParqExDoor:
    """A new door: a lock in the account's property, in no area, its link and its mirror row."""
    actor = _actor(account)
    lock = lock_create(display_name=values.display_name, prop=account.property, actor=actor)
    if not values.active:
        lock = lock_activity_set(lock=lock, active=False, actor=actor)
    ExternalRef.objects.create(
        content_type=ContentType.objects.get_for_model(Lock),
        object_id=lock.pk,
        source=SOURCE,
        account_id=account.pk,
        external_id=values.external_id,
        sync_direction=ExternalRefSyncDirection.FROM_EXTERNAL_TO_INTERNAL,
        sync_status=ExternalRefSyncStatus.SYNCED,
        last_sync_date=timezone.now(),
    )
    door = ParqExDoor.objects.create(account=account, lock=lock, door_id=values.external_id, **_fields(values))
    _health(lock, values, actor)
    event_append(
        event_name="parqex_door.linked",
        actor=actor,
        lock_id=lock.pk,
        property_id=account.property_id,
        payload=_payload(account, values.external_id, controllerId=values.controller.external_id),
    )
    return door


@transaction.atomic
def parqex_door_update(*, door: ParqExDoor, values: mapping.DoorValues) -> ParqExDoor:
    """A changed (or returning) door: its lock's name and activity through the lock service,
    its mirror row, and its link back to synced."""
    account = door.account
    actor = _actor(account)
    lock = lock_update(lock=door.lock, display_name=values.display_name, actor=actor)
    lock_activity_set(lock=lock, active=values.active, actor=actor)
    changed = {}
    for name, value in _fields(values).items():
        if getattr(door, name) != value:
            changed[name] = value
            setattr(door, name, value)
    door.save(update_fields=DOOR_FIELDS)
    _link_set(door, ExternalRefSyncStatus.SYNCED)
    _health(lock, values, actor)
    event_append(
        event_name="parqex_door.updated",
        actor=actor,
        lock_id=door.lock_id,
        property_id=account.property_id,
        payload=_payload(account, door.door_id, changed=sorted(k for k in changed if k != "digest")),
    )
    return door


@transaction.atomic
def parqex_door_mark_missing(*, door: ParqExDoor, now) -> ParqExDoor:
    """The remote no longer lists this door: marked missing (its lock and link stay)."""
    door.missing_since = now
    door.save(update_fields=["missing_since"])
    event_append(
        event_name="parqex_door.missing",
        actor=_actor(door.account),
        lock_id=door.lock_id,
        property_id=door.account.property_id,
        payload=_payload(door.account, door.door_id),
    )
    return door


@transaction.atomic
def parqex_door_mark_failed(*, door: ParqExDoor, error: MappingError) -> None:
    """The remote sent this door in a shape Keyhouse cannot read: its link is `failed`; the lock
    keeps its last good state."""
    _link_set(door, ExternalRefSyncStatus.FAILED)
    event_append(
        event_name="parqex_door.failed",
        actor=_actor(door.account),
        lock_id=door.lock_id,
        property_id=door.account.property_id,
        payload=_payload(door.account, door.door_id, field=error.field, reason=error.reason),
    )


def _link_set(door: ParqExDoor, status: str) -> None:
    ExternalRef.objects.filter(account_id=door.account_id, source=SOURCE, external_id=door.door_id).exclude(
        sync_status=status
    ).update(sync_status=status, last_sync_date=timezone.now())


def _links_failed(account: IntegrationAccount) -> set[str]:
    return set(
        ExternalRef.objects.filter(
            account_id=account.pk, source=SOURCE, sync_status=ExternalRefSyncStatus.FAILED
        ).values_list("external_id", flat=True)
    )


def parqex_poll(context: PollContext) -> None:
    """Read `/sync` and apply each door (vendor poll function, apps.integrations.registry)."""
    account = context.account
    connect_timeout, read_timeout = context.http.timeout
    http = http_for_token(
        context.http.base_url,
        context.credentials["token"],
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries=context.http.retries,
    )
    try:
        devices = ParqExClient(http).sync()
    finally:
        http.close()
    results = mapping.doors_from_sync(devices, site_tz=account.time_zone or DEFAULT_SITE_TZ)
    known = {door.door_id: door for door in ParqExDoor.objects.filter(account=account).select_related("lock")}
    failed_links = _links_failed(account)
    counts = {"fetched": len(results), "created": 0, "updated": 0, "unchanged": 0, "failed": 0}
    seen: set[str] = set()
    for values in results:
        if isinstance(values, MappingError):
            counts["failed"] += 1
            door_id = getattr(values, "door_id", None)
            logger.warning("parqex account %s: door %s skipped: %s", account.pk, door_id or "(no id)", values)
            if door_id:
                seen.add(door_id)
                if door_id in known and door_id not in failed_links:
                    parqex_door_mark_failed(door=known[door_id], error=values)
            continue
        seen.add(values.external_id)
        door = known.get(values.external_id)
        if door is None:
            parqex_door_create(account=account, values=values)
            counts["created"] += 1
        elif door.digest == values.digest and door.missing_since is None and door.door_id not in failed_links:
            counts["unchanged"] += 1
        else:
            parqex_door_update(door=door, values=values)
            counts["updated"] += 1
    now = timezone.now()
    for door_id, door in known.items():
        if door_id not in seen and door.missing_since is None:
            parqex_door_mark_missing(door=door, now=now)
            counts["updated"] += 1
    context.progress(**counts)
