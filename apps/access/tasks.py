"""Celery entry points for the access model: thin, idempotent."""

from celery import shared_task

from apps.access import derive, services


@shared_task(time_limit=300)
def grants_expire() -> int:
    """Beat: mark grants past validUntil so derived access drops them."""

    return services.grants_expire()


@shared_task(time_limit=3600)
def property_rebuild(property_id: str) -> dict:
    result = derive.property_rebuild(property_id=property_id)
    return {"locksChanged": len(result.locks_changed), "usersChanged": len(result.users_changed)}
