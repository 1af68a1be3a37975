"""Writes to the outbox. Only services call `event_append`, inside their own transaction.

Processing (docs/API.md "Events"): `event_process` runs the handlers of one event. A failure
is recorded (`last_error`) and retried with exponential backoff (`next_attempt_at`, see
backoff.py) by the `events_sweep` beat task, forever: an event is never dropped, and after
FAILING_AFTER_ATTEMPTS attempts it is listed as failing.
"""

import logging
from functools import partial
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from apps.core.written import event_id_record, event_ids_paused
from apps.events.backoff import retry_delay
from apps.events.constants import SWEEP_BATCH, SWEEP_GRACE  # noqa: F401 - SWEEP_GRACE is re-exported
from apps.events.models import Event
from apps.events.registry import event_source_of, handlers_for

logger = logging.getLogger("keyhouse.events")

_CLAIM_FIELDS = ["attempts", "last_error", "next_attempt_at", "last_modified_at"]
_DONE_FIELDS = ["processed_at", "last_error", "next_attempt_at", "last_modified_at"]


def _enqueue(event_id: UUID) -> None:
    """Hand the event to Celery; a down broker is logged, and the sweep sends it later."""
    from apps.events import tasks  # local: its tasks module imports this one (Celery calls the services)

    try:
        with event_ids_paused():  # an eager worker's derived events are not the request's write
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
        event_source=event_source_of(event_name),
        payload=payload or {},
        last_modified_by=actor,
        processed_at=_processed_unless_handled(event_name),
        **refs,
    )
    event.full_clean()
    event.save()
    event_id_record(event.id)
    if event.processed_at is None:
        transaction.on_commit(partial(_enqueue, event.id))
    return event


def _processed_unless_handled(event_name: str):
    """An event no handler listens to is processed when it is written (now), and never queued:
    a worker would only mark it so. Others start unprocessed (None)."""
    return None if handlers_for(event_name) else timezone.now()


def events_append(*, events: list[dict], actor: str) -> list[Event]:
    """`event_append` for many events of one write (a batch service), in one INSERT: each dict
    is `event_name`, optional `payload` and the entity ids. Each event is checked as one
    appended alone (names, lengths) except for the uniqueness of its fresh id, and each is
    enqueued after commit like any other (one on-commit callback for them all)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events_append() must be called inside the service's transaction.atomic()")
    rows = []
    for spec in events:
        spec = dict(spec)
        name, payload = spec.pop("event_name"), spec.pop("payload", None)
        event = Event(
            event_name=name,
            event_source=event_source_of(name),
            payload=payload or {},
            last_modified_by=actor,
            processed_at=_processed_unless_handled(name),
            **spec,
        )
        event.full_clean(validate_unique=False, validate_constraints=False)
        rows.append(event)
    Event.objects.bulk_create(rows, batch_size=500)
    for event in rows:
        event_id_record(event.id)
    queued = [event.id for event in rows if event.processed_at is None]
    if queued:
        transaction.on_commit(partial(_enqueue_each, queued))
    return rows


def _enqueue_each(event_ids: list[UUID]) -> None:
    """One on-commit callback for a batch's events (not one each: a 50k-row import would
    hold 50k callbacks until it commits), enqueued in order."""
    for event_id in event_ids:
        _enqueue(event_id)


def _locked(event_id: UUID) -> Event | None:
    """The row, locked for this transaction; None if unknown or another worker holds it."""
    return Event.objects.select_for_update(skip_locked=True).filter(pk=event_id).first()


def event_process(*, event_id: UUID, force: bool = False, actor: str | None = None) -> Event | None:
    """Run the handlers of one event once; with `force`, run them again. Safe from several workers.

    Without `force` a processed event, or one whose retry time has not come, is left alone
    (so duplicate deliveries change nothing). Returns the event, or None when it does not
    exist or another worker is processing it right now (SKIP LOCKED on PostgreSQL).

    Two short transactions: the first claims the attempt (counts it, and schedules the next
    retry as if this one fails), so a worker killed inside a handler still leaves a counted,
    visible, retried attempt; the second runs the handlers under the row lock. Handler writes
    roll back as a unit on failure, and the failure is recorded on the row.
    """
    now = timezone.now()
    with transaction.atomic():
        event = _locked(event_id)
        if event is None:
            return None
        due = event.processed_at is None and (event.next_attempt_at is None or event.next_attempt_at <= now)
        if not (force or due):
            return event
        event.attempts += 1
        event.last_error = f"attempt {event.attempts} did not finish (worker stopped or timed out)"
        if event.processed_at is None:
            event.next_attempt_at = now + retry_delay(event.attempts)
        event.save(update_fields=_CLAIM_FIELDS)
    if actor:
        logger.info("event %s (%s) processed again by %s", event.id, event.event_name, actor)

    with transaction.atomic():
        # This worker owns the claim: wait for the row (a duplicate delivery may be looking at
        # it this instant) rather than skip it and leave the attempt unfinished.
        event = Event.objects.select_for_update().filter(pk=event_id).first()
        if event is None:
            return None
        try:
            with transaction.atomic():
                for handler in handlers_for(event.event_name):
                    handler(event)
        except Exception as exc:  # noqa: BLE001 - any handler failure is recorded and retried
            logger.exception("event %s (%s) failed on attempt %s", event.id, event.event_name, event.attempts)
            event.last_error = f"{type(exc).__name__}: {exc}"[:4000]
            event.save(update_fields=["last_error", "last_modified_at"])
            return event
        event.processed_at = timezone.now()
        event.last_error = ""
        event.next_attempt_at = None
        event.save(update_fields=_DONE_FIELDS)
        return event


def events_sweep() -> int:
    """Enqueue every due event (lost enqueue, or retry time reached); returns how many."""
    ids = list(Event.objects.due(now=timezone.now()).order_by("id").values_list("id", flat=True)[:SWEEP_BATCH])
    for event_id in ids:
        _enqueue(event_id)
    return len(ids)
