"""Celery entry points for the outbox: thin, id-only, idempotent."""

from celery import shared_task

from apps.events import services


@shared_task(time_limit=120, soft_time_limit=100)
def event_process(event_id: str) -> None:
    """Process one event (enqueued on commit by event_append, or by the sweep)."""

    services.event_process(event_id=event_id)


@shared_task(time_limit=120)
def events_sweep() -> int:
    """Beat: re-enqueue events that were never processed."""

    return services.events_sweep()
