"""Periodic housekeeping for core API state."""

from celery import shared_task


@shared_task(time_limit=300)
def idempotency_purge() -> int:
    """Drop stored Idempotency-Key responses past their TTL (beat: hourly)."""
    from apps.core.api.idempotency import idempotency_purge as purge

    return purge()
