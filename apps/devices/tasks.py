"""Celery entry points for device maps: thin, idempotent, taking ids only."""

from celery import shared_task

from apps.core.actors import SYSTEM
from apps.devices import services


@shared_task(time_limit=900, soft_time_limit=840)
def device_maps_build(device_ids: list[str]) -> dict:
    """Build and seal the maps of these devices that are behind (after an event)."""

    return services.device_maps_build(device_ids=device_ids, actor=SYSTEM)


@shared_task(time_limit=1800, soft_time_limit=1740)
def device_maps_sweep() -> dict:
    """Beat: build what lost tasks left behind."""

    return services.device_maps_build_pending(actor=SYSTEM)
