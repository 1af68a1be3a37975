"""Schedules: create, update, delete (refused while an access list uses one). One transaction each, with its event."""

from django.db import transaction

from apps.access.models import (
    Schedule,
)
from apps.access.schedules import ScheduleError, windows_from_json, windows_to_json
from apps.access.services.groups import _areas_referencing
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.services import event_append

# --- schedules ---------------------------------------------------------------------------


def _schedule_fields(windows, valid_from, valid_until) -> list[dict]:
    try:
        canonical = windows_to_json(windows_from_json(windows))
    except ScheduleError as error:
        raise ApplicationError(str(error), fields={error.field: [error.message]}) from None
    if valid_from and valid_until and valid_until <= valid_from:
        raise ApplicationError(
            "validUntil: must be after validFrom", fields={"validUntil": ["Must be after validFrom."]}
        )
    return canonical


@transaction.atomic
def schedule_create(
    *, prop, display_name: str, windows: list, actor: str, valid_from=None, valid_until=None
) -> Schedule:
    schedule = Schedule.objects.create(
        property=prop,
        display_name=display_name,
        windows=_schedule_fields(windows, valid_from, valid_until),
        valid_from=valid_from,
        valid_until=valid_until,
        last_modified_by=actor,
    )
    event_append(
        event_name="schedule.created", actor=actor, property_id=prop.pk, payload={"scheduleId": str(schedule.pk)}
    )
    return schedule


@transaction.atomic
def schedule_update(
    *, schedule: Schedule, display_name: str, windows: list, actor: str, valid_from=None, valid_until=None
) -> Schedule:
    """Replace name, windows and validity; an identical update changes nothing (no event)."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    after = (display_name, _schedule_fields(windows, valid_from, valid_until), valid_from, valid_until)
    before = (schedule.display_name, schedule.windows, schedule.valid_from, schedule.valid_until)
    if after == before:
        return schedule
    schedule.display_name, schedule.windows, schedule.valid_from, schedule.valid_until = after
    schedule.last_modified_by = actor
    schedule.save()
    names = ("displayName", "windows", "validFrom", "validUntil")
    changed = [name for name, old, new in zip(names, before, after, strict=True) if old != new]
    event_append(
        event_name="schedule.updated",
        actor=actor,
        property_id=schedule.property_id,
        payload={"scheduleId": str(schedule.pk), "changed": changed},
    )
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: Schedule, actor: str) -> Schedule:
    """Soft delete; refused (409) while an access list uses it."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    referencing = _areas_referencing(property_id=schedule.property_id, key="scheduleId", value=schedule.pk)
    if referencing:
        raise ConflictError(
            f"schedule {schedule.pk} is used by the access list of areas: {', '.join(referencing)}",
            extra={"blockedBy": {"areaIds": referencing}},
        )
    schedule.type_state = EntityTypeState.DELETED
    schedule.last_modified_by = actor
    schedule.save(update_fields=["type_state", "last_modified_by", "last_modified_at"])
    event_append(
        event_name="schedule.deleted",
        actor=actor,
        property_id=schedule.property_id,
        payload={"scheduleId": str(schedule.pk)},
    )
    return schedule
