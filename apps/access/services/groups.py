"""User groups (custom, property and area groups) and membership: one transaction each, with its event."""

from django.db import transaction

from apps.access.models import (
    Membership,
    UserGroup,
    UserGroupGroupSource,
    UserGroupGroupType,
)
from apps.access.selectors import membership_lockt_owned
from apps.areas.models import Area
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.services import event_append, events_append

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


def area_group_name(area_name: str) -> str:
    """ "<area> members", cut to fit a group's 200 characters (an area's name may use all 200)."""
    suffix = " members"
    limit = UserGroup._meta.get_field("display_name").max_length
    if len(area_name) + len(suffix) > limit:
        area_name = area_name[: limit - len(suffix) - 1] + "…"
    return area_name + suffix


def area_group_create(*, area, actor: str) -> UserGroup:
    """The area's own group (`areaUserGroupId`), made with it (inside area_create's transaction)."""
    group = UserGroup(
        property_id=area.property_id,
        area=area,
        display_name=area_group_name(area.display_name),
        group_type=area.area_type,
        group_source=UserGroupGroupSource.AREA,
    )
    return _group_save_new(group, actor)


def area_groups_create(*, areas: list, actor: str) -> list[UserGroup]:
    """`area_group_create` for many new areas of one write (inside access.services.areas_create's
    transaction): one INSERT, one `group.created` event each."""
    groups = []
    for area in areas:
        group = UserGroup(
            property_id=area.property_id,
            area=area,
            display_name=area_group_name(area.display_name),
            group_type=area.area_type,
            group_source=UserGroupGroupSource.AREA,
            last_modified_by=actor,
        )
        group.full_clean(validate_unique=False, validate_constraints=False)
        groups.append(group)
    UserGroup.objects.bulk_create(groups, batch_size=500)
    events_append(
        events=[
            {
                "event_name": "group.created",
                "property_id": group.property_id,
                "user_group_id": group.id,
                "area_id": group.area_id,
                "payload": {"groupSource": group.group_source, "groupType": group.group_type},
            }
            for group in groups
        ],
        actor=actor,
    )
    return groups


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
def membership_add(*, group: UserGroup, user, actor: str, valid_from=None, valid_until=None) -> bool:
    """Put a user in a group (event `group.member_added`, with the window when one is given);
    adding twice changes nothing, except that a given window replaces the member's
    (`membership_window_update`)."""
    if user.type_state == EntityTypeState.DELETED:
        raise ApplicationError("userId: the user is deleted", fields={"userId": ["The user is deleted."]})
    windowed = valid_from is not None or valid_until is not None
    if windowed:
        _window_check(valid_from, valid_until)
    _, created = Membership.objects.get_or_create(
        user_group=group,
        user=user,
        defaults={"created_by": actor, "valid_from": valid_from, "valid_until": valid_until},
    )
    if created:
        event_append(
            event_name="group.member_added",
            actor=actor,
            property_id=group.property_id,
            user_group_id=group.id,
            user_id=user.pk,
            payload=_window_payload(valid_from, valid_until) if windowed else {},
        )
    elif windowed:
        membership_window_update(group=group, user=user, valid_from=valid_from, valid_until=valid_until, actor=actor)
    return created


def _window_check(valid_from, valid_until) -> None:
    """A membership window's own rules, each a 400 naming the field."""
    for name, value in (("validFrom", valid_from), ("validUntil", valid_until)):
        if value is not None and value.tzinfo is None:
            raise ApplicationError(f"{name}: must carry a time zone", fields={name: ["Must carry a time zone."]})
    if valid_from and valid_until and valid_from >= valid_until:
        raise ApplicationError(
            "validUntil: must be after validFrom", fields={"validUntil": ["Must be after validFrom."]}
        )


def _window_payload(valid_from, valid_until) -> dict:
    return {
        "validFrom": valid_from.isoformat() if valid_from else None,
        "validUntil": valid_until.isoformat() if valid_until else None,
    }


@transaction.atomic
def membership_window_set(*, group: UserGroup, user, valid_from, valid_until, actor: str) -> bool:
    """Bound what the group gives this member to [valid_from, valid_until) (None: unbounded;
    event `group.member_window_set`), so their derived access and key-map entries end on time
    without anyone acting. Not a member, or the same window: nothing changes (False)."""
    _window_check(valid_from, valid_until)
    changed = (
        Membership.objects.filter(user_group=group, user=user)
        .exclude(valid_from=valid_from, valid_until=valid_until)
        .update(valid_from=valid_from, valid_until=valid_until)
    )
    if changed:
        event_append(
            event_name="group.member_window_set",
            actor=actor,
            property_id=group.property_id,
            user_group_id=group.id,
            user_id=user.pk,
            payload=_window_payload(valid_from, valid_until),
        )
    return bool(changed)


@transaction.atomic
def membership_window_update(*, group: UserGroup, user, valid_from, valid_until, actor: str) -> bool:
    """A manager's edit of a member's window (`membership_window_set`, event
    `group.member_window_set`). A Lockt-owned membership is refused (409): its window comes
    from Lockt and the next poll would overwrite the edit (docs/INTEGRATIONS.md)."""
    _window_check(valid_from, valid_until)
    if membership_lockt_owned(group=group, user_id=user.pk):
        message = f"The window of {user.display_name} in {group.display_name} comes from Lockt: change it in Lockt."
        raise ConflictError(f"validFrom: {message}", fields={"validFrom": [message]})
    return membership_window_set(group=group, user=user, valid_from=valid_from, valid_until=valid_until, actor=actor)


def _one_property(memberships) -> object:
    properties = {group.property_id for group, _ in memberships}
    if len(properties) > 1:
        raise ValueError("a batch of memberships must be in one property's groups")
    return next(iter(properties))


def _members_payload(pairs: list) -> dict:
    return {
        "members": [{"userGroupId": str(g), "userId": str(u)} for g, u in pairs],
        "userIds": sorted({str(u) for _, u in pairs}),
    }


@transaction.atomic
def memberships_add(*, memberships: list[tuple[UserGroup, object]], actor: str) -> int:
    """Put many (group, person) pairs of one property's groups in at once (the batch variant of
    `membership_add` that bulk imports use): one query for the pairs that exist, one INSERT, and
    one event `group.members_added` naming the new pairs (`members`) and the people
    (`userIds`), so derived access and key maps are brought up to date once for the whole batch
    rather than once per person. Pairs that exist change nothing. Returns how many were new."""
    if not memberships:
        return 0
    property_id = _one_property(memberships)
    deleted = sorted({u.email for _, u in memberships if u.type_state == EntityTypeState.DELETED})
    if deleted:
        raise ApplicationError(
            f"userId: the user is deleted: {', '.join(deleted[:5])}", fields={"userId": ["The user is deleted."]}
        )
    wanted = list(dict.fromkeys((g.pk, u.pk) for g, u in memberships))
    exist = _existing(wanted)
    new = [pair for pair in wanted if pair not in exist]
    if new:
        Membership.objects.bulk_create(
            [Membership(user_group_id=g, user_id=u, created_by=actor) for g, u in new], batch_size=500
        )
        event_append(
            event_name="group.members_added", actor=actor, property_id=property_id, payload=_members_payload(new)
        )
    return len(new)


@transaction.atomic
def memberships_remove(*, memberships: list[tuple[UserGroup, object]], actor: str) -> int:
    """Take many (group, person) pairs of one property's groups out at once (the batch variant of
    `membership_remove`): one DELETE, one event `group.members_removed` naming the pairs that
    were members. Returns how many were."""
    if not memberships:
        return 0
    property_id = _one_property(memberships)
    wanted = list(dict.fromkeys((g.pk, u.pk) for g, u in memberships))
    exist = _existing(wanted)
    gone = [pair for pair in wanted if pair in exist]
    if gone:
        Membership.objects.filter(pk__in=[exist[pair] for pair in gone]).delete()
        event_append(
            event_name="group.members_removed", actor=actor, property_id=property_id, payload=_members_payload(gone)
        )
    return len(gone)


def _existing(pairs) -> dict:
    """Which (group id, user id) pairs are memberships (→ the row's id): one query by the
    people's index."""
    users = list({u for _, u in pairs})
    groups = list({g for g, _ in pairs})
    wanted = set(pairs)
    found = Membership.objects.filter(user_id__in=users, user_group_id__in=groups).values_list(
        "user_group_id", "user_id", "pk"
    )
    return {(g, u): pk for g, u, pk in found if (g, u) in wanted}


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
