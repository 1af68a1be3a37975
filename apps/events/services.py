"""Writes to the outbox. Only services call `event_append`, inside their own transaction."""

import logging
from datetime import timedelta
from functools import partial
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.events.models import Event
from apps.events.registry import handlers_for

logger = logging.getLogger("keyhouse.events")

MAX_ATTEMPTS = 10
SWEEP_GRACE = timedelta(seconds=30)  # leave fresh rows to their on-commit enqueue


def _enqueue(event_id: UUID) -> None:
    """Hand the event to Celery; a down broker is logged, and the sweep sends it later."""
    from apps.events import tasks

    try:
        tasks.event_process.delay(str(event_id))
    except Exception:  # noqa: BLE001 - broker errors vary by transport; the row is safe
        logger.warning("could not enqueue event %s; the sweep will retry", event_id, exc_info=True)


def event_append(*, event_name: str, actor: str, payload: dict | None = None, **refs) -> Event:
    """Append an Event in the caller's transaction; processing is enqueued after commit.

    `refs` are the spec's entity ids (property_id, area_id, user_group_id, user_id,
    user_device_id, lock_id, key_id) plus api_key_id and firmware_version.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_append() must be called inside the service's transaction.atomic()")
    event = Event(
        event_name=event_name,
        event_source=event_name.split(".", 1)[0],
        payload=payload or {},
        last_modified_by=actor,
        **refs,
    )
    event.full_clean()
    event.save()
    transaction.on_commit(partial(_enqueue, event.id))
    return event


def event_process(*, event_id: UUID, force: bool = False) -> Event | None:
    """Run the handlers of one event, once (again with `force`). Safe from several workers.

    The row is locked (SKIP LOCKED on PostgreSQL) so two workers never run it together;
    handler writes roll back as a unit on failure, and the failure is recorded on the row.
    """
    with transaction.atomic():
        event = Event.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()
        if event is None or (event.processed_at is not None and not force):
            return event
        event.attempts += 1
        try:
            with transaction.atomic():
                for handler in handlers_for(event.event_name):
                    handler(event)
        except Exception as exc:  # noqa: BLE001 - any handler failure is recorded and retried
            logger.exception("event %s (%s) failed on attempt %s", event.id, event.event_name, event.attempts)
            event.last_error = f"{type(exc).__name__}: {exc}"[:4000]
            event.save(update_fields=["attempts", "last_error", "last_modified_at"])
            return event
        event.processed_at = timezone.now()
        event.last_error = ""
        event.save(update_fields=["attempts", "processed_at", "last_error", "last_modified_at"])
        return event


def events_sweep() -> int:
    """Re-enqueue events left unprocessed (worker crash, broker down); returns how many."""
    cutoff = timezone.now() - SWEEP_GRACE
    ids = list(
        Event.objects.unprocessed()
        .filter(created_at__lt=cutoff, attempts__lt=MAX_ATTEMPTS)
        .order_by("id")
        .values_list("id", flat=True)[:1000]
    )
    for event_id in ids:
        _enqueue(event_id)
    return len(ids)
