"""Celery entry points for key maps: thin, idempotent, taking ids only."""

from celery import shared_task

from apps.locks import services


@shared_task(time_limit=900, soft_time_limit=840)
def key_maps_build(property_id: str) -> dict:
    """Sign the key maps of one property whose content changed (after an event)."""

    build = services.key_maps_build(property_id=property_id)
    return {"checked": build.locks_checked, "signed": build.locks_signed} if build else {}


@shared_task(time_limit=900, soft_time_limit=840)
def key_maps_build_part(property_id: str, lock_ids: list[str], reissue: bool = False) -> dict:
    """One part of a build-all (`services.key_maps_rebuild`): these locks only; parts of one
    property run in parallel on several workers."""

    build = services.key_maps_build_part(property_id=property_id, lock_ids=lock_ids, reissue=reissue)
    return {"checked": build.locks_checked, "signed": build.locks_signed} if build else {}


@shared_task(time_limit=1800, soft_time_limit=1740)
def key_maps_sweep() -> dict:
    """Beat: build what lost tasks left waiting; re-issue maps nearing notAfter."""

    return services.key_maps_sweep()
