"""Celery entry points of the integrations: one poll task per account, and the beat dispatcher."""

from celery import shared_task

from apps.integrations import health, services


@shared_task(time_limit=300, soft_time_limit=270, acks_late=True)
def integration_account_poll(account_id: str, trigger: str = services.SCHEDULED) -> None:
    """Poll one account (enqueued by the dispatcher or "Poll now"); exits quietly if the account
    is gone, disabled or already being polled. Failures are the account's backoff, not Celery retries."""
    services.integration_account_poll(account_id=account_id, trigger=trigger)


@shared_task(time_limit=60)
def integration_accounts_dispatch() -> int:
    """Beat (every minute): enqueue a poll of each due account; returns how many."""
    return len(services.integration_accounts_dispatch())


@shared_task(time_limit=600, soft_time_limit=570)
def lock_health_sweep() -> int:
    """Beat (every minute; twin: the `lock_health_sweep` command): offline, held open, stale."""
    return health.health_sweep()
