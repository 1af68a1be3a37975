"""Periodic housekeeping for core API state."""

from celery import shared_task

from apps.core.api.idempotency import idempotency_purge as purge


@shared_task(time_limit=300)
def idempotency_purge() -> int:
    """Drop stored Idempotency-Key responses past their TTL (beat: hourly)."""

    return purge()
