"""Lock health seen from the integrations (docs/INTEGRATIONS.md "Lock health"): a lock linked
to an account that is not `ok` is `stale` (its data is old, which is not the same as offline);
the sweep re-checks that beside the time-based flags of apps.locks."""

import datetime as dt

from django.contrib.contenttypes.models import ContentType

from apps.core.models import ExternalRef
from apps.integrations.choices import IntegrationAccountStatus
from apps.integrations.models import IntegrationAccount
from apps.locks.models import Lock, LockHealth
from apps.locks.services import lock_health_stale_set, lock_health_sweep


def integration_health_stale_sweep() -> int:
    """Mark the health of locks linked to a failing (or disabled) account stale, clear it where
    the account is ok again; returns how many turned. Locks without health are not read."""
    linked = (
        ExternalRef.objects.filter(
            content_type=ContentType.objects.get_for_model(Lock),
            account_id__isnull=False,
            object_id__in=LockHealth.objects.values("lock_id"),
        )
        .values_list("object_id", "account_id")
        .distinct()
    )
    failing = set(IntegrationAccount.objects.exclude(status=IntegrationAccountStatus.OK).values_list("id", flat=True))
    stale, fresh = set(), set()
    for lock_id, account_id in linked:
        (stale if account_id in failing else fresh).add(lock_id)
    fresh -= stale
    turned = lock_health_stale_set(lock_ids=stale, stale=True, actor="system") if stale else 0
    if fresh:
        turned += lock_health_stale_set(lock_ids=fresh, stale=False, actor="system")
    return turned


def health_sweep(*, now: dt.datetime | None = None) -> int:
    """`lock_health_sweep` (command and beat task): offline, held open, stale; how many turned."""
    return lock_health_sweep(now=now) + integration_health_stale_sweep()
