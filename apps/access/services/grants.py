"""Door grants (native access levels) and blocks. One transaction each, with its event."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.access.models import (
    AccessBlock,
    AccessGrant,
    AccessLevel,
)
from apps.core.actors import SYSTEM
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError
from apps.events.services import event_append

# --- grants ------------------------------------------------------------------------------


# What a person holding a grant may hand on, on the same lock or area (docs/ACCESS.md).
def _refuse(field: str, message: str):
    raise ApplicationError(f"{field}: {message}", fields={field: [message]})


def _grant_references(grant: AccessGrant, **payload) -> dict:
    """event_append's references for a grant's events (`grant.created`, `.revoked`, `.expired`):
    its property, person, and lock or area (the handlers recompute access from these), and
    `grantId` first in the payload (then `payload`, e.g. accessLevel)."""
    return {
        "property_id": grant.property_id,
        "user_id": grant.user_id,
        "lock_id": grant.lock_id,
        "area_id": grant.area_id,
        "payload": {"grantId": str(grant.pk), **payload},
    }


@transaction.atomic
def grant_create(
    *,
    prop,
    user,
    access_level: str,
    actor: str,
    lock=None,
    area=None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> AccessGrant:
    """Give one person a lock or an area (event `grant.created`). GUEST grants must end."""
    if (lock is None) == (area is None):
        _refuse("lockId", "Give exactly one of lockId and areaId.")
    target = lock if lock is not None else area
    if target.property_id != prop.pk or target.type_state == EntityTypeState.DELETED:
        _refuse("lockId" if lock is not None else "areaId", "Not in this property.")
    if lock is not None and lock.area_id is None:
        _refuse("lockId", "The lock is not installed in an area.")
    if user.type_state == EntityTypeState.DELETED:
        _refuse("userId", "The user is deleted.")
    if access_level not in AccessLevel.values:
        _refuse("accessLevel", f"Must be one of {', '.join(AccessLevel.values)}.")
    if access_level == AccessLevel.GUEST and valid_until is None:
        _refuse("validUntil", "Required for GUEST grants: guest access must end.")
    if valid_until is not None and valid_until <= timezone.now():
        _refuse("validUntil", "Must be in the future.")
    if valid_from and valid_until and valid_until <= valid_from:
        _refuse("validUntil", "Must be after validFrom.")
    grant = AccessGrant.objects.create(
        property=prop,
        user=user,
        lock=lock,
        area=area,
        access_level=access_level,
        valid_from=valid_from,
        valid_until=valid_until,
        granted_by=actor,
        last_modified_by=actor,
    )
    event_append(
        event_name="grant.created",
        actor=actor,
        **_grant_references(grant, accessLevel=access_level),
    )
    return grant


@transaction.atomic
def grant_revoke(*, grant: AccessGrant, actor: str) -> AccessGrant:
    """Revoke (event `grant.revoked`); revoking twice changes nothing."""
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.revoked_at is not None:
        return grant
    grant.revoked_at, grant.revoked_by, grant.last_modified_by = timezone.now(), actor, actor
    grant.save(update_fields=["revoked_at", "revoked_by", "last_modified_by", "last_modified_at"])
    event_append(event_name="grant.revoked", actor=actor, **_grant_references(grant))
    return grant


def grants_expire(*, now=None) -> int:
    """Mark grants whose validUntil has passed (event `grant.expired` each), so derived access
    drops them. They already stopped counting at validUntil: every derived line carries it."""

    now = now or timezone.now()
    due = AccessGrant.objects.filter(expired_at__isnull=True, revoked_at__isnull=True, valid_until__lte=now)
    count = 0
    for grant_id in list(due.values_list("id", flat=True)[:1000]):
        with transaction.atomic():
            grant = AccessGrant.objects.select_for_update().filter(pk=grant_id, expired_at__isnull=True).first()
            if grant is None:
                continue
            grant.expired_at = now
            grant.save(update_fields=["expired_at", "last_modified_at"])
            event_append(event_name="grant.expired", actor=SYSTEM, **_grant_references(grant))
            count += 1
    return count


# --- blocks ------------------------------------------------------------------------------


@transaction.atomic
def block_create(*, prop, user, actor: str, reason: str = "") -> tuple[AccessBlock, bool]:
    """Block a person at a property (event `block.created`); blocking twice changes nothing."""
    block, created = AccessBlock.objects.get_or_create(
        property=prop, user=user, defaults={"reason": reason, "created_by": actor}
    )
    if created:
        event_append(event_name="block.created", actor=actor, property_id=prop.pk, user_id=user.pk)
    return block, created


@transaction.atomic
def block_delete(*, prop, user, actor: str) -> bool:
    deleted, _ = AccessBlock.objects.filter(property=prop, user=user).delete()
    if deleted:
        event_append(event_name="block.deleted", actor=actor, property_id=prop.pk, user_id=user.pk)
    return bool(deleted)
