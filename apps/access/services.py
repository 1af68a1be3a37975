"""Writes for user groups, membership, schedules, grants and blocks. Each is one transaction
with its event; the access model recomputes derived access from those events."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from apps.access import policies
from apps.access.access_lists import access_list_clean
from apps.access.models import (
    AccessBlock,
    AccessGrant,
    AccessLevel,
    Membership,
    Schedule,
    UserGroup,
    UserGroupGroupSource,
    UserGroupGroupType,
)
from apps.access.schedules import ScheduleError, windows_from_json, windows_to_json
from apps.accounts import services as account_services
from apps.areas import services as area_services
from apps.areas.models import Area
from apps.areas.services import KEEP
from apps.core.actors import SYSTEM
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.services import event_append
from apps.properties import services as property_services
from apps.properties.models import Property

PROPERTY_GROUPS = (("Residents", UserGroupGroupType.RESIDENT), ("Staff", UserGroupGroupType.STAFF))


def _group_save_new(group: UserGroup, actor: str) -> UserGroup:
    group.last_modified_by = actor
    group.full_clean()
    group.save()
    event_append(
        event_name="group.created",
        actor=actor,
        property_id=group.property_id,
        user_group_id=group.id,
        area_id=group.area_id,
        payload={"groupSource": group.group_source, "groupType": group.group_type},
    )
    return group


@transaction.atomic
def user_group_create(*, prop, display_name: str, group_type: str, actor: str) -> UserGroup:
    """A custom group made by a manager (event `group.created`)."""
    group = UserGroup(
        property=prop, display_name=display_name, group_type=group_type, group_source=UserGroupGroupSource.CUSTOM
    )
    return _group_save_new(group, actor)


def property_groups_create(*, prop, actor: str) -> list[UserGroup]:
    """The property's own groups, made with it (inside property_create's transaction)."""
    return [
        _group_save_new(
            UserGroup(
                property=prop, display_name=name, group_type=group_type, group_source=UserGroupGroupSource.PROPERTY
            ),
            actor,
        )
        for name, group_type in PROPERTY_GROUPS
    ]


def area_group_create(*, area, actor: str) -> UserGroup:
    """The area's own group (`areaUserGroupId`), made with it (inside area_create's transaction)."""
    group = UserGroup(
        property_id=area.property_id,
        area=area,
        display_name=f"{area.display_name} members",
        group_type=area.area_type,
        group_source=UserGroupGroupSource.AREA,
    )
    return _group_save_new(group, actor)


@transaction.atomic
def user_group_update(*, group: UserGroup, display_name: str, actor: str) -> UserGroup:
    """Rename a group (event `group.updated`); `groupType` and `groupSource` are write-once."""
    group = UserGroup.objects.select_for_update().get(pk=group.pk)
    if group.display_name != display_name:
        group.display_name = display_name
        group.last_modified_by = actor
        group.full_clean()
        group.save()
        event_append(event_name="group.updated", actor=actor, property_id=group.property_id, user_group_id=group.id)
    return group


def _areas_referencing(*, property_id, key: str, value) -> list[str]:
    return [
        str(area_id)
        for area_id, entries in Area.objects.alive().filter(property_id=property_id).values_list("id", "access_list")
        if any(entry.get(key) == str(value) for entry in entries or [])
    ]


def user_group_delete_with_owner(*, group: UserGroup, actor: str) -> UserGroup:
    """Soft-delete any group and drop its members; for the service deleting its owner
    (area or property), inside that transaction (event `group.deleted`, whose payload names
    the members it had, so their access is recomputed)."""
    members = Membership.objects.filter(user_group=group)
    member_ids = sorted(str(u) for u in members.values_list("user_id", flat=True))
    members.delete()
    group.type_state = EntityTypeState.DELETED
    group.last_modified_by = actor
    group.save(update_fields=["type_state", "last_modified_by", "last_modified_at"])
    event_append(
        event_name="group.deleted",
        actor=actor,
        property_id=group.property_id,
        user_group_id=group.id,
        area_id=group.area_id,
        payload={"memberIds": member_ids},
    )
    return group


@transaction.atomic
def user_group_delete(*, group: UserGroup, actor: str) -> UserGroup:
    """Delete a custom group and its memberships (event `group.deleted`).

    Area and property groups go only with their area or property (400); a group that an
    access list still grants is refused (409, listing the areas).
    """
    group = UserGroup.objects.select_for_update().get(pk=group.pk)
    if group.group_source != UserGroupGroupSource.CUSTOM:
        raise ApplicationError(f"{group.group_source} groups are deleted with their {group.group_source}, not alone")
    referencing = _areas_referencing(property_id=group.property_id, key="userGroupId", value=group.pk)
    if referencing:
        raise ConflictError(
            f"group {group.pk} is in the access list of areas: {', '.join(referencing)}",
            extra={"blockedBy": {"areaIds": referencing}},
        )
    return user_group_delete_with_owner(group=group, actor=actor)


@transaction.atomic
def membership_add(*, group: UserGroup, user, actor: str) -> bool:
    """Put a user in a group (event `group.member_added`); adding twice changes nothing."""
    if user.type_state == EntityTypeState.DELETED:
        raise ApplicationError("userId: the user is deleted", fields={"userId": ["The user is deleted."]})
    _, created = Membership.objects.get_or_create(user_group=group, user=user, defaults={"created_by": actor})
    if created:
        event_append(
            event_name="group.member_added",
            actor=actor,
            property_id=group.property_id,
            user_group_id=group.id,
            user_id=user.pk,
        )
    return created


@transaction.atomic
def membership_remove(*, group: UserGroup, user, actor: str) -> bool:
    """Take a user out of a group (event `group.member_removed`); removing a non-member changes nothing."""
    deleted, _ = Membership.objects.filter(user_group=group, user=user).delete()
    if deleted:
        event_append(
            event_name="group.member_removed",
            actor=actor,
            property_id=group.property_id,
            user_group_id=group.id,
            user_id=user.pk,
        )
    return bool(deleted)


# --- schedules ---------------------------------------------------------------------------


def _schedule_fields(windows, valid_from, valid_until) -> list[dict]:
    try:
        canonical = windows_to_json(windows_from_json(windows))
    except ScheduleError as error:
        raise ApplicationError(str(error), fields={error.field: [error.message]}) from None
    if valid_from and valid_until and valid_until <= valid_from:
        raise ApplicationError(
            "validUntil: must be after validFrom", fields={"validUntil": ["Must be after validFrom."]}
        )
    return canonical


@transaction.atomic
def schedule_create(
    *, prop, display_name: str, windows: list, actor: str, valid_from=None, valid_until=None
) -> Schedule:
    schedule = Schedule.objects.create(
        property=prop,
        display_name=display_name,
        windows=_schedule_fields(windows, valid_from, valid_until),
        valid_from=valid_from,
        valid_until=valid_until,
        last_modified_by=actor,
    )
    event_append(
        event_name="schedule.created", actor=actor, property_id=prop.pk, payload={"scheduleId": str(schedule.pk)}
    )
    return schedule


@transaction.atomic
def schedule_update(
    *, schedule: Schedule, display_name: str, windows: list, actor: str, valid_from=None, valid_until=None
) -> Schedule:
    """Replace name, windows and validity; an identical update changes nothing (no event)."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    after = (display_name, _schedule_fields(windows, valid_from, valid_until), valid_from, valid_until)
    before = (schedule.display_name, schedule.windows, schedule.valid_from, schedule.valid_until)
    if after == before:
        return schedule
    schedule.display_name, schedule.windows, schedule.valid_from, schedule.valid_until = after
    schedule.last_modified_by = actor
    schedule.save()
    names = ("displayName", "windows", "validFrom", "validUntil")
    changed = [name for name, old, new in zip(names, before, after, strict=True) if old != new]
    event_append(
        event_name="schedule.updated",
        actor=actor,
        property_id=schedule.property_id,
        payload={"scheduleId": str(schedule.pk), "changed": changed},
    )
    return schedule


@transaction.atomic
def schedule_delete(*, schedule: Schedule, actor: str) -> Schedule:
    """Soft delete; refused (409) while an access list uses it."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    referencing = _areas_referencing(property_id=schedule.property_id, key="scheduleId", value=schedule.pk)
    if referencing:
        raise ConflictError(
            f"schedule {schedule.pk} is used by the access list of areas: {', '.join(referencing)}",
            extra={"blockedBy": {"areaIds": referencing}},
        )
    schedule.type_state = EntityTypeState.DELETED
    schedule.last_modified_by = actor
    schedule.save(update_fields=["type_state", "last_modified_by", "last_modified_at"])
    event_append(
        event_name="schedule.deleted",
        actor=actor,
        property_id=schedule.property_id,
        payload={"scheduleId": str(schedule.pk)},
    )
    return schedule


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


# --- places: access's part of properties and areas ---------------------------------------------
# A property comes with its two property groups, an area with its area group and an access
# list only access can check. The tree and the property record are written by apps.areas and
# apps.properties (one floor down); these build on them in one transaction. Everyone else
# (API, admin, demo, imports) creates, changes and deletes places through these.


@transaction.atomic
def property_create(
    *,
    display_name: str,
    address: dict,
    actor: str,
    time_zone: str = "UTC",
    owner_id=None,
    access_manager_ids=(),
    property_id=None,
) -> Property:
    """A property and its two property groups, Residents and Staff (events `property.created`,
    `group.created` twice)."""
    prop = property_services.property_create(
        display_name=display_name,
        address=address,
        actor=actor,
        time_zone=time_zone,
        owner_id=owner_id,
        access_manager_ids=access_manager_ids,
        property_id=property_id,
    )
    property_groups_create(prop=prop, actor=actor)
    return prop


def property_delete(*, prop: Property, actor: str) -> None:
    """Soft-delete a property with its groups (event `property.deleted`); refused (409) while
    it still has areas."""

    def groups_go_too(prop: Property) -> None:
        for group in prop.user_groups.alive():
            user_group_delete_with_owner(group=group, actor=actor)

    property_services.property_delete(prop=prop, actor=actor, cascade=groups_go_too)


@transaction.atomic
def area_create(
    *,
    prop,
    display_name: str,
    area_type: str,
    actor: str,
    parent_id=None,
    access_list: list[dict] | None = None,
    area_id=None,
) -> Area:
    """Create an area with its checked access list and its area user group (events
    `area.created`, `group.created`)."""
    area = area_services.area_create(
        prop=prop,
        display_name=display_name,
        area_type=area_type,
        actor=actor,
        parent_id=parent_id,
        access_list=access_list_clean(prop, access_list or []),
        area_id=area_id,
    )
    area_group_create(area=area, actor=actor)
    return area


@transaction.atomic
def area_update(
    *, area: Area, actor: str, display_name: str | None = None, access_list: list[dict] | None = None, parent_id=KEEP
) -> Area:
    """Rename (the area group's name follows), change the access list, or move (events
    `group.updated`, `area.updated`, `area.moved`)."""
    area = Area.objects.select_for_update().select_related("property").get(pk=area.pk)
    if display_name is not None and display_name != area.display_name:
        _area_group_follow_rename(area, display_name, actor)
    if access_list is not None:
        access_list = access_list_clean(area.property, access_list)
    return area_services.area_update(
        area=area, actor=actor, display_name=display_name, access_list=access_list, parent_id=parent_id
    )


def _area_group_follow_rename(area: Area, new_name: str, actor: str) -> None:
    """The area group keeps "<area> members" in step with the area's name (unless a manager
    gave it a name of its own)."""
    group = UserGroup.objects.filter(area=area).first()
    if group is not None and group.display_name == f"{area.display_name} members":
        user_group_update(group=group, display_name=f"{new_name} members", actor=actor)


def area_delete(*, area: Area, actor: str) -> None:
    """Soft-delete an area with its area group (event `area.deleted`). Refused (409, listing
    what blocks it) while it has sub-areas or installed locks, or while another area's access
    list grants this area or its group."""

    def referenced_by(area: Area) -> dict[str, list[str]]:
        group = UserGroup.objects.filter(area=area).first()
        referencing = set(_areas_referencing(property_id=area.property_id, key="areaId", value=area.pk))
        if group is not None:
            referencing |= set(_areas_referencing(property_id=area.property_id, key="userGroupId", value=group.pk))
        referencing.discard(str(area.pk))
        return {"referencedByAreaIds": sorted(referencing)} if referencing else {}

    def group_goes_too(area: Area) -> None:
        group = UserGroup.objects.filter(area=area).first()
        if group is not None:
            user_group_delete_with_owner(group=group, actor=actor)

    area_services.area_delete(area=area, actor=actor, blocked_by=referenced_by, cascade=group_goes_too)


@transaction.atomic
def user_delete(*, user, actor: str):
    """Soft-delete a person (events `group.member_removed` for each group, `property.updated`
    for each property they helped manage, `user.deleted`). Refused (409) while they own a live
    property: transfer it first."""

    def out_of_groups_and_properties(user) -> None:
        owned = [str(i) for i in Property.objects.alive().filter(owner=user).values_list("id", flat=True)]
        if owned:
            raise ConflictError(
                f"user {user.pk} owns properties: {', '.join(owned)}; transfer them first",
                extra={"blockedBy": {"propertyIds": owned}},
            )
        for membership in Membership.objects.filter(user=user).select_related("user_group"):
            membership_remove(group=membership.user_group, user=user, actor=actor)
        property_services.access_manager_remove_everywhere(user=user, actor=actor)

    return account_services.user_delete(user=user, actor=actor, cascade=out_of_groups_and_properties)


@transaction.atomic
def user_create_in_groups(*, email: str, display_name: str, grants, groups, reach, actor: str, **private):
    """A person with their permissions and groups, in one transaction (createUser). A caller
    reaching only some properties (`reach`) must be able to see the person it made: groups or a
    permission of one of its properties; else a 400 on `userGroupIds` and nothing is kept."""
    user = account_services.user_create(email=email, display_name=display_name, grants=grants, actor=actor, **private)
    for group in groups:
        membership_add(group=group, user=user, actor=actor)
    if policies.user_visible(user_id=user.pk, property_ids=reach) is None:
        message = "Name at least one group of your properties, so that you can see the new user."
        raise ApplicationError(f"userGroupIds: {message}", fields={"userGroupIds": [message]})
    return user
