"""Access-model test helpers: locks in areas, processing events as a worker would."""

from apps.access.models import LockAccessEntry, LockAccessVersion, UserAccessMap
from apps.core.actors import SYSTEM
from apps.events.models import Event
from apps.events.services import event_process
from apps.locks import services as lock_services


def lock_in(area, name: str | None = None):
    lock = lock_services.lock_create(display_name=name or f"{area.display_name} door", prop=area.property, actor=SYSTEM)
    return lock_services.lock_install(lock=lock, area=area, actor=SYSTEM)


def process_events() -> int:
    """Run every unprocessed event in order (what the worker does after commit)."""
    done = 0
    while True:
        pending = list(Event.objects.unprocessed().order_by("id").values_list("id", flat=True)[:500])
        if not pending:
            return done
        for event_id in pending:
            event = event_process(event_id=event_id)
            assert event.processed_at is not None, (event.event_name, event.last_error)
            done += 1


def locks_of(user, prop) -> set:
    """The lock ids in a person's stored access map at a property."""
    access_map = UserAccessMap.objects.filter(user_id=user.pk, property_id=prop.pk).first()
    return {entry["lockId"] for entry in access_map.entries} if access_map else set()


def map_version(user, prop) -> int:
    access_map = UserAccessMap.objects.filter(user_id=user.pk, property_id=prop.pk).first()
    return access_map.version if access_map else 0


def lines_version(lock) -> int:
    """The lock's access-lines version (not its signed key map's version)."""
    row = LockAccessVersion.objects.filter(lock_id=lock.pk).first()
    return row.version if row else 0


def snapshot(prop) -> dict:
    """Everything derived for a property, comparable between incremental and rebuild."""
    return {
        "lines": sorted(
            LockAccessEntry.objects.filter(property_id=prop.pk).values_list(
                "lock_id", "kind", "subject_id", "schedule_id", "valid_from", "valid_until", "source"
            ),
            key=str,
        ),
        "lines_versions": sorted(
            LockAccessVersion.objects.filter(property_id=prop.pk).values_list("lock_id", "version", "digest")
        ),
        "access_maps": sorted(
            (str(m.user_id), m.version, m.digest, tuple(sorted(e["lockId"] + e["source"] for e in m.entries)))
            for m in UserAccessMap.objects.filter(property_id=prop.pk)
        ),
    }
