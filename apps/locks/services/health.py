"""Lock health from every source (docs/INTEGRATIONS.md "Lock health"): record what a source
reports, derive the flags, append one event per transition; the sweep re-checks the
time-based flags (online, held open).

Flags: `battery_low` (below KEYHOUSE_LOCK_BATTERY_LOW_PERCENT, default 20; unknown is not
low), `online` (contact within KEYHOUSE_LOCK_ONLINE_MINUTES, default 30), `held_open` (open
longer than `held_open_after_seconds`, given by the source). A report that changes nothing
writes nothing.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.events.services import event_append
from apps.locks.models import Lock, LockHealth

RECORDED = (
    "source",
    "door_state",
    "door_opened_at",
    "held_open_after_seconds",
    "battery_level",
    "last_contact_at",
    "stale",
)


def _flags(health: LockHealth, now: dt.datetime) -> dict:
    low = getattr(settings, "KEYHOUSE_LOCK_BATTERY_LOW_PERCENT", 20)
    online_minutes = getattr(settings, "KEYHOUSE_LOCK_ONLINE_MINUTES", 30)
    held = (
        health.door_state == "open"
        and health.door_opened_at is not None
        and health.held_open_after_seconds is not None
        and now - health.door_opened_at > dt.timedelta(seconds=health.held_open_after_seconds)
    )
    return {
        "battery_low": health.battery_level is not None and health.battery_level < low,
        "online": health.last_contact_at is not None
        and now - health.last_contact_at <= dt.timedelta(minutes=online_minutes),
        "held_open": held,
    }


def _turned(flag: str, value: bool, health: LockHealth, lock: Lock, *, actor: str) -> None:
    """One event per transition (`online` turning false is `lock.offline`)."""
    refs = {
        "actor": actor,
        "lock_id": lock.pk,
        "property_id": lock.property_id,
        "payload": {
            "source": health.source,
            "batteryLevel": health.battery_level,
            "doorState": health.door_state,
            "lastContactAt": None if health.last_contact_at is None else health.last_contact_at.isoformat(),
        },
    }
    if flag == "battery_low":
        if value:
            event_append(event_name="lock.battery_low", **refs)
        else:
            event_append(event_name="lock.battery_low_cleared", **refs)
    elif flag == "online":
        if value:
            event_append(event_name="lock.offline_cleared", **refs)
        else:
            event_append(event_name="lock.offline", **refs)
    elif value:
        event_append(event_name="lock.held_open", **refs)
    else:
        event_append(event_name="lock.held_open_cleared", **refs)


def _apply_flags(health: LockHealth, lock: Lock, now, *, actor: str) -> list[str]:
    changed = []
    for flag, value in _flags(health, now).items():
        if getattr(health, flag) == value:
            continue
        setattr(health, flag, value)
        changed.append(flag)
        _turned(flag, value, health, lock, actor=actor)
    return changed


@transaction.atomic
def lock_health_record(
    *,
    lock: Lock,
    source: str,
    actor: str,
    door_state: str = "unknown",
    door_changed_at: dt.datetime | None = None,
    held_open_after_seconds: int | None = None,
    battery_level: int | None = None,
    last_contact_at: dt.datetime | None = None,
    stale: bool = False,
    now: dt.datetime | None = None,
) -> LockHealth:
    """What `source` reports about `lock` now; events for each flag that turns."""
    now = now or timezone.now()
    health = LockHealth.objects.select_for_update().filter(lock=lock).first()
    created = health is None
    if created:
        health = LockHealth(lock=lock, updated_at=now)
    opened_at = (door_changed_at or health.door_opened_at or now) if door_state == "open" else None
    if door_state == "open" and health.door_state == "open" and health.door_opened_at and door_changed_at is None:
        opened_at = health.door_opened_at
    values = {
        "source": source,
        "door_state": door_state,
        "door_opened_at": opened_at,
        "held_open_after_seconds": held_open_after_seconds,
        "battery_level": battery_level,
        "last_contact_at": last_contact_at,
        "stale": stale,
    }
    changed = [name for name, value in values.items() if getattr(health, name) != value]
    for name in changed:
        setattr(health, name, values[name])
    changed += _apply_flags(health, lock, now, actor=actor)
    if created or changed:
        health.updated_at = now
        health.save()
    return health


def lock_health_sweep(*, now: dt.datetime | None = None) -> int:
    """Re-check the time-based flags of every lock with health; returns how many turned."""
    now = now or timezone.now()
    online_since = now - dt.timedelta(minutes=getattr(settings, "KEYHOUSE_LOCK_ONLINE_MINUTES", 30))
    # Only rows whose time-based flags can turn are read: online ones whose contact aged out
    # (or offline ones with a recent contact), open doors not yet held open, held-open flags
    # that no longer hold. Battery and stale never turn with time alone.
    candidates = (
        Q(online=True, last_contact_at__lt=online_since)
        | Q(online=True, last_contact_at__isnull=True)
        | Q(online=False, last_contact_at__gte=online_since)
        | Q(door_state="open", held_open=False, door_opened_at__isnull=False, held_open_after_seconds__isnull=False)
        | (Q(held_open=True) & ~Q(door_state="open"))
    )
    turned = 0
    for lock_id in list(LockHealth.objects.filter(candidates).values_list("lock_id", flat=True)):
        with transaction.atomic():
            health = LockHealth.objects.select_for_update().select_related("lock").filter(lock_id=lock_id).first()
            if health is None:
                continue
            changed = _apply_flags(health, health.lock, now, actor="system")
            if changed:
                health.updated_at = now
                health.save(update_fields=[*changed, "updated_at"])
                turned += len(changed)
    return turned


@transaction.atomic
def lock_health_stale_set(*, lock_ids, stale: bool, actor: str) -> int:
    """Mark these locks' health stale (their integration is failing) or fresh again; events
    `lock.stale` / `lock.stale_cleared` per lock that turns. Nothing turns, nothing written."""
    rows = list(
        LockHealth.objects.select_for_update()
        .select_related("lock")
        .filter(lock_id__in=list(lock_ids))
        .exclude(stale=stale)
    )
    for health in rows:
        health.stale = stale
        health.save(update_fields=["stale"])
        refs = {"actor": actor, "lock_id": health.lock_id, "property_id": health.lock.property_id}
        if stale:
            event_append(event_name="lock.stale", payload={"source": health.source}, **refs)
        else:
            event_append(event_name="lock.stale_cleared", payload={"source": health.source}, **refs)
    return len(rows)
