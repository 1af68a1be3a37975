"""AddAccessibleLock through the access services (docs/INTEGRATIONS.md "SmartphoneKey compatibility").

One transaction: the user's current grant on the lock is compared with the call; nothing
changes (same version, `event: null`) when they match; otherwise the grant is created, or
replaced (revoke + create, both through apps.access.services), or revoked (`validUntil` not
after now: SmartphoneKey has no removal call), the user's version rises by 1 and
`smartphonekey_compat.applied` is appended.
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.access import services as access_services
from apps.access.models import AccessGrant
from apps.events.services import event_append
from apps.integrations.models import SmartphoneKeyCompatVersion


@dataclass(frozen=True)
class CompatResult:
    version: int
    event: dict | None
    grant: AccessGrant | None


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _current(user, lock) -> AccessGrant | None:
    now = timezone.now()
    return (
        AccessGrant.objects.select_for_update()
        .filter(user=user, lock=lock, revoked_at__isnull=True, expired_at__isnull=True)
        .exclude(valid_until__lte=now)
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def compat_accessible_lock_add(
    *,
    user,
    lock,
    access_level: str,
    valid_from: dt.datetime | None,
    valid_until: dt.datetime | None,
    granted_by: str,
    actor: str,
) -> CompatResult:
    """Create, update or revoke `user`'s grant on `lock` as AddAccessibleLock asks."""
    counter, _ = SmartphoneKeyCompatVersion.objects.select_for_update().get_or_create(user=user)
    current = _current(user, lock)
    now = timezone.now()
    if valid_until is not None and valid_until <= now:
        if current is None:
            return CompatResult(version=counter.version, event=None, grant=None)
        grant = access_services.grant_revoke(grant=current, actor=actor)
        change = "AccessibleLockRevoked"
    else:
        same = current is not None and (current.access_level, current.valid_from, current.valid_until) == (
            access_level,
            valid_from,
            valid_until,
        )
        if same:
            return CompatResult(version=counter.version, event=None, grant=current)
        if current is not None:
            access_services.grant_revoke(grant=current, actor=actor)
        grant = access_services.grant_create(
            prop=lock.property,
            user=user,
            lock=lock,
            access_level=access_level,
            valid_from=valid_from,
            valid_until=valid_until,
            actor=actor,
        )
        change = "AccessibleLockChanged" if current is not None else "AccessibleLockAdded"
    counter.version += 1
    counter.save(update_fields=["version"])
    event = {
        "type": change,
        "grantId": str(grant.pk),
        "lockId": str(lock.pk),
        "accessLevel": grant.access_level,
        "validFrom": _iso(grant.valid_from),
        "validUntil": _iso(now if change == "AccessibleLockRevoked" else grant.valid_until),
        "grantedBy": granted_by,
        "at": _iso(now),
    }
    event_append(
        event_name="smartphonekey_compat.applied",
        actor=actor,
        property_id=lock.property_id,
        user_id=user.pk,
        lock_id=lock.pk,
        payload={"version": counter.version, **event},
    )
    return CompatResult(version=counter.version, event=event, grant=grant)
