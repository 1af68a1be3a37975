"""Reads for user groups and membership."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.access import compute, derive, doors
from apps.access.access_lists import access_list_clean
from apps.access.explain import Names, explain, first_allowed, what_if
from apps.access.models import (
    AccessBlock,
    AccessGrant,
    LockAccessEntry,
    Membership,
    Schedule,
    UserAccessMap,
    UserGroup,
)
from apps.access.schedules import ScheduleError, windows_from_json, windows_to_json
from apps.accounts.models import User
from apps.areas.models import Area
from apps.core.choices import ExternalRefSyncDirection
from apps.core.exceptions import ApplicationError
from apps.core.models import ExternalRef
from apps.core.principal import ALL


def user_group_list(*, property_id=None, property_ids=ALL) -> QuerySet[UserGroup]:
    """Live groups, of one property and/or limited to `property_ids`."""
    queryset = UserGroup.objects.alive()
    if property_id is not None:
        queryset = queryset.filter(property_id=property_id)
    if property_ids is not ALL:
        queryset = queryset.filter(property_id__in=property_ids)
    return queryset


def user_group_get(*, property_id, user_group_id) -> UserGroup | None:
    return user_group_list(property_id=property_id).filter(pk=user_group_id).first()


def user_groups_of_user(*, user_id, property_id=None, property_ids=ALL) -> QuerySet[UserGroup]:
    """The live groups a user belongs to."""
    return user_group_list(property_id=property_id, property_ids=property_ids).filter(memberships__user_id=user_id)


def member_property_ids(*, user_id) -> frozenset:
    """Properties where the user is in at least one live group or holds a live grant (what
    `me` reaches)."""
    groups = (
        Membership.objects.filter(user_id=user_id, user_group__type_state__in=["active", "inactive"])
        .values_list("user_group__property_id", flat=True)
        .distinct()
    )
    grants = AccessGrant.objects.alive().filter(user_id=user_id, revoked_at__isnull=True, expired_at__isnull=True)
    return frozenset(groups) | frozenset(grants.values_list("property_id", flat=True).distinct())


# --- schedules, grants, blocks ----------------------------------------------------------------


def schedule_list(*, property_id) -> QuerySet[Schedule]:
    return Schedule.objects.alive().filter(property_id=property_id)


def grant_list(*, property_id, active_only: bool = False) -> QuerySet[AccessGrant]:
    grants = AccessGrant.objects.alive().filter(property_id=property_id)
    if active_only:
        from django.db.models import Q
        from django.utils import timezone

        grants = grants.filter(revoked_at__isnull=True, expired_at__isnull=True).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gt=timezone.now())
        )
    return grants


def grants_held(*, user_id, lock_id=None, area_id=None) -> set[str]:
    """The access levels a person holds right now on exactly this lock or area."""
    from django.db.models import Q
    from django.utils import timezone

    now = timezone.now()
    grants = AccessGrant.objects.alive().filter(
        user_id=user_id, revoked_at__isnull=True, expired_at__isnull=True, lock_id=lock_id, area_id=area_id
    )
    grants = grants.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=now))
    grants = grants.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    return set(grants.values_list("access_level", flat=True))


def block_list(*, property_id) -> QuerySet[AccessBlock]:
    return AccessBlock.objects.filter(property_id=property_id).select_related("user")


# --- explain / what-if inputs ------------------------------------------------------------


def _names(property_id):
    return Names(
        areas={str(i): n for i, n in Area.objects.filter(property_id=property_id).values_list("id", "display_name")},
        groups={
            str(i): n for i, n in UserGroup.objects.filter(property_id=property_id).values_list("id", "display_name")
        },
        schedules={
            str(i): n for i, n in Schedule.objects.filter(property_id=property_id).values_list("id", "display_name")
        },
        locks=doors.names(property_id),
    )


def groups_of_users(*, property_id, user_ids) -> dict[str, set]:
    groups: dict[str, set] = {str(u): set() for u in user_ids}
    rows = Membership.objects.filter(
        user_id__in=list(user_ids), user_group__property_id=property_id, user_group__type_state="active"
    ).values_list("user_id", "user_group_id")
    for user_id, group_id in rows:
        groups[str(user_id)].add(str(group_id))
    return groups


def membership_windows(*, property_id, user_ids) -> dict[str, dict[str, tuple[str, str]]]:
    """person -> group -> (validFrom, validUntil) of their memberships that carry a window."""
    out: dict[str, dict] = {str(u): {} for u in user_ids}
    rows = (
        Membership.objects.filter(
            user_id__in=list(user_ids), user_group__property_id=property_id, user_group__type_state="active"
        )
        .filter(Q(valid_from__isnull=False) | Q(valid_until__isnull=False))
        .values_list("user_id", "user_group_id", "valid_from", "valid_until")
    )
    for user_id, group_id, valid_from, valid_until in rows:
        out[str(user_id)][str(group_id)] = (derive._ts(valid_from) or "", derive._ts(valid_until) or "")
    return out


def membership_get(*, group, user_id) -> Membership | None:
    """The person's membership of the group (with its window), or None."""
    return Membership.objects.filter(user_group=group, user_id=user_id).select_related("user").first()


def membership_lockt_owned(*, group, user_id) -> bool:
    """True when Lockt owns this membership's window: the group is a Lockt access level and the
    person a Lockt-owned user of the same account (docs/INTEGRATIONS.md "Ownership and
    conflicts"); the Lockt poll writes that window and would overwrite a local edit."""
    group_accounts = set(
        ExternalRef.objects.filter(
            content_type=ContentType.objects.get_for_model(UserGroup), object_id=group.pk, source="lockt"
        ).values_list("account_id", flat=True)
    )
    if not group_accounts:
        return False
    return ExternalRef.objects.filter(
        content_type=ContentType.objects.get_for_model(User),
        object_id=user_id,
        source="lockt",
        account_id__in=group_accounts,
        sync_direction=ExternalRefSyncDirection.FROM_EXTERNAL_TO_INTERNAL,
    ).exists()


def membership_lockt_owned_users(*, group) -> set[str]:
    """The members of `group` whose window Lockt owns (`membership_lockt_owned` for a whole
    group in two queries, for pages that list every member)."""
    group_accounts = set(
        ExternalRef.objects.filter(
            content_type=ContentType.objects.get_for_model(UserGroup), object_id=group.pk, source="lockt"
        ).values_list("account_id", flat=True)
    )
    if not group_accounts:
        return set()
    return {
        str(user_id)
        for user_id in ExternalRef.objects.filter(
            content_type=ContentType.objects.get_for_model(User),
            object_id__in=Membership.objects.filter(user_group=group).values("user_id"),
            source="lockt",
            account_id__in=group_accounts,
            sync_direction=ExternalRefSyncDirection.FROM_EXTERNAL_TO_INTERNAL,
        ).values_list("object_id", flat=True)
    }


def lock_ids_naming(*, user_ids=(), group_ids=(), property_ids=None) -> dict[str, set]:
    """{propertyId: lockIds} of the locks whose derived lines name one of these people (`user`
    and `deny` lines) or, for the people, one of their live groups, and these groups: the locks
    whose key maps a change of the people's devices or of the groups' members can alter (their
    lines name groups, not members, so nothing else can). `property_ids` limits the answer.
    Two queries (memberships, lines), by the lines' (property, subject) index."""
    user_ids, groups = {str(u) for u in user_ids}, {str(g) for g in group_ids}
    if user_ids:
        memberships = Membership.objects.filter(user_id__in=list(user_ids), user_group__type_state="active")
        if property_ids is not None:
            memberships = memberships.filter(user_group__property_id__in=list(property_ids))
        groups |= {str(g) for g in memberships.values_list("user_group_id", flat=True)}
    if not user_ids and not groups:
        return {}
    rows = LockAccessEntry.objects.filter(
        Q(kind__in=(compute.USER, compute.DENY), subject_id__in=list(user_ids))
        | Q(kind=compute.GROUP, subject_id__in=list(groups))
    )
    if property_ids is not None:
        rows = rows.filter(property_id__in=list(property_ids))
    found: dict[str, set] = {}
    for property_id, lock_id in rows.order_by().values_list("property_id", "lock_id").distinct():
        found.setdefault(str(property_id), set()).add(str(lock_id))
    return found


def access_explain(*, prop, user, lock, at) -> dict:
    """Allowed or denied, and every path, for one person at one lock at one instant."""
    from zoneinfo import ZoneInfo

    structure = derive.structure_load(prop.pk)
    groups = groups_of_users(property_id=prop.pk, user_ids=[user.pk])[str(user.pk)]
    names = _names(prop.pk)
    result = explain(
        structure=structure,
        user_id=str(user.pk),
        group_ids=groups,
        lock_id=str(lock.pk),
        at=at,
        tz=ZoneInfo(prop.time_zone),
        names=names,
        group_windows=membership_windows(property_id=prop.pk, user_ids=[user.pk])[str(user.pk)],
    )
    for path in result["paths"]:
        path["userGroupName"] = names.groups.get(path["userGroupId"]) if path["userGroupId"] else None
    return {"userId": str(user.pk), "lockId": str(lock.pk), "at": at, "timeZone": prop.time_zone, **result}


def lock_people(*, prop, lock, at) -> list[dict]:
    """Everyone the lock's lines name at `at` (members of its groups expanded, grant holders,
    blocked people), each with `explain`'s answer: allowed or not, and through which paths.
    Free passage (anyone, on a schedule) names nobody and is not listed here."""
    from zoneinfo import ZoneInfo

    structure = derive.structure_load(prop.pk)
    lock_id = str(lock.pk)
    if lock_id not in structure.locks:
        return []
    lines = compute.LockSide(structure).lock_lines(lock_id)
    group_ids = {line.subject_id for line in lines if line.kind == compute.GROUP}
    people = {line.subject_id for line in lines if line.kind in (compute.USER, compute.DENY)}
    members = Membership.objects.filter(user_group_id__in=list(group_ids), user_group__type_state="active")
    people |= {str(user_id) for user_id in members.values_list("user_id", flat=True)}
    groups = groups_of_users(property_id=prop.pk, user_ids=people)
    windows = membership_windows(property_id=prop.pk, user_ids=people)
    names, tz, out = _names(prop.pk), ZoneInfo(prop.time_zone), []
    for user_id in people:
        result = explain(
            structure=structure,
            user_id=user_id,
            group_ids=groups[user_id],
            lock_id=lock_id,
            at=at,
            tz=tz,
            names=names,
            lines=lines,
            group_windows=windows[user_id],
        )
        for path in result["paths"]:
            path["userGroupName"] = names.groups.get(path["userGroupId"]) if path["userGroupId"] else None
        out.append({"userId": user_id, **result})
    return out


def person_access(*, prop, user, now, days: int = 7) -> list[dict]:
    """For each lock of the person's stored access map at `prop` (the derived access): may
    they open it at `now` (with explain's paths), and when they first may within `days`."""
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    access_map = UserAccessMap.objects.filter(user_id=user.pk, property_id=prop.pk).first()
    lock_ids = sorted({entry["lockId"] for entry in access_map.entries}) if access_map else []
    if not lock_ids:
        return []
    structure = derive.structure_load(prop.pk)
    group_ids = groups_of_users(property_id=prop.pk, user_ids=[user.pk])[str(user.pk)]
    windows = membership_windows(property_id=prop.pk, user_ids=[user.pk])[str(user.pk)]
    names, tz, out = _names(prop.pk), ZoneInfo(prop.time_zone), []
    for lock_id in lock_ids:
        ask = {
            "structure": structure,
            "user_id": str(user.pk),
            "group_ids": group_ids,
            "lock_id": lock_id,
            "group_windows": windows,
        }
        now_answer = explain(**ask, at=now, tz=tz, names=names)
        first = first_allowed(**ask, start=now, end=now + timedelta(days=days), tz=tz, names=names)
        for path in now_answer["paths"]:
            path["userGroupName"] = names.groups.get(path["userGroupId"]) if path["userGroupId"] else None
        out.append(
            {
                "lockId": lock_id,
                "lockName": names.locks.get(lock_id, lock_id),
                "now": now_answer,
                "firstAllowedAt": first[0] if first else None,
                "firstAllowed": first[1] if first else None,
            }
        )
    return sorted(out, key=lambda row: row["lockName"].casefold())


def _refuse(index: int, key: str, message: str):
    field = f"changes[{index}].{key}"
    raise ApplicationError(f"{field}: {message}", fields={field: [message]})


def _apply_change(prop, structure, groups_delta: list, index: int, change: dict):
    """One proposed change applied to an in-memory structure (nothing is written)."""
    from dataclasses import replace

    kind = change["change"]
    if kind in ("addMembership", "removeMembership"):
        group_id = str(change["userGroupId"])
        if group_id not in structure.group_types:
            _refuse(index, "userGroupId", "No such user group in this property.")
        groups_delta.append((kind, str(change["userId"]), group_id, index, None))
        return structure
    if kind == "setMembershipWindow":
        group_id = str(change["userGroupId"])
        if group_id not in structure.group_types:
            _refuse(index, "userGroupId", "No such user group in this property.")
        valid_from, valid_until = change.get("validFrom"), change.get("validUntil")
        if valid_from and valid_until and valid_from >= valid_until:
            _refuse(index, "validUntil", "Must be after validFrom.")
        window = (derive._ts(valid_from) or "", derive._ts(valid_until) or "")
        groups_delta.append((kind, str(change["userId"]), group_id, index, window))
        return structure
    if kind == "setAccessList":
        area_id = str(change["areaId"])
        if area_id not in structure.areas:
            _refuse(index, "areaId", "No such area in this property.")
        try:
            cleaned = access_list_clean(prop, change.get("accessList") or [])
        except ApplicationError as error:
            first = next(iter(error.fields))
            _refuse(index, first, error.fields[first][0])
        areas = dict(structure.areas)
        areas[area_id] = replace(areas[area_id], access_list=tuple(cleaned))
        return replace(structure, areas=areas)
    if kind == "moveArea":
        area_id, parent = str(change["areaId"]), change.get("parentAreaId")
        parent = str(parent) if parent else None
        if area_id not in structure.areas:
            _refuse(index, "areaId", "No such area in this property.")
        node = parent
        while node is not None:
            if node == area_id:
                _refuse(index, "parentAreaId", "The move would put the area under itself.")
            if node not in structure.areas:
                _refuse(index, "parentAreaId", "No such area in this property.")
            node = structure.areas[node].parent_id
        areas = dict(structure.areas)
        areas[area_id] = replace(areas[area_id], parent_id=parent)
        return replace(structure, areas=areas)
    if kind == "setSchedule":
        schedule_id = str(change["scheduleId"])
        if schedule_id not in structure.schedules:
            _refuse(index, "scheduleId", "No such schedule in this property.")
        try:
            windows = windows_to_json(windows_from_json(change.get("windows") or []))
        except ScheduleError as error:
            _refuse(index, error.field, error.message)
        schedules = dict(structure.schedules)
        schedules[schedule_id] = {
            "windows": windows,
            "validFrom": derive._ts(change.get("validFrom")),
            "validUntil": derive._ts(change.get("validUntil")),
        }
        return replace(structure, schedules=schedules)
    if kind == "addGrant":
        lock_id, area_id = change.get("lockId"), change.get("areaId")
        if (lock_id is None) == (area_id is None):
            _refuse(index, "lockId", "Give exactly one of lockId and areaId.")
        if lock_id is not None and str(lock_id) not in structure.locks:
            _refuse(index, "lockId", "No installed lock with this id in this property.")
        if area_id is not None and str(area_id) not in structure.areas:
            _refuse(index, "areaId", "No such area in this property.")
        grant = compute.GrantRow(
            id=f"proposed-{index}",
            user_id=str(change["userId"]),
            lock_id=str(lock_id) if lock_id else None,
            area_id=str(area_id) if area_id else None,
            valid_from=derive._ts(change.get("validFrom")),
            valid_until=derive._ts(change.get("validUntil")),
        )
        return replace(structure, grants=(*structure.grants, grant))
    if kind == "revokeGrant":
        grant_id = str(change["grantId"])
        if grant_id not in {g.id for g in structure.grants}:
            _refuse(index, "grantId", "No grant with this id counts in this property.")
        return replace(structure, grants=tuple(g for g in structure.grants if g.id != grant_id))
    if kind in ("block", "unblock"):
        user_id = str(change["userId"])
        blocked = structure.blocked | {user_id} if kind == "block" else structure.blocked - {user_id}
        return replace(structure, blocked=frozenset(blocked))
    _refuse(index, "change", f"Unknown change {kind!r}.")  # the serializer lists the allowed ones


def access_what_if(*, prop, changes: list[dict], now=None) -> dict:
    """Who would gain and who would lose which locks if `changes` were applied (nothing is),
    as of `now`: membership windows narrow what a group gives, and access that has ended by
    then is none (docs/ACCESS.md "What-if")."""
    now = now or timezone.now()

    before = derive.structure_load(prop.pk)
    after, groups_delta = before, []
    for index, change in enumerate(changes):
        after = _apply_change(prop, after, groups_delta, index, change)
    old_lines, new_lines = compute.all_lock_lines(before), compute.all_lock_lines(after)
    old_content = {lock: compute.lock_content(lines, before.schedules) for lock, lines in old_lines.items()}
    new_content = {lock: compute.lock_content(lines, after.schedules) for lock, lines in new_lines.items()}
    groups, users = set(), set()
    for lock_id in set(old_lines) | set(new_lines):
        if old_content.get(lock_id) != new_content.get(lock_id) or old_lines.get(lock_id) != new_lines.get(lock_id):
            for line in set(old_lines.get(lock_id, ())) | set(new_lines.get(lock_id, ())):
                (groups if line.kind == compute.GROUP else users).add(line.subject_id)
    users.discard("")
    users |= {user_id for _, user_id, _, _, _ in groups_delta}
    users |= {
        str(u) for u in Membership.objects.filter(user_group_id__in=list(groups)).values_list("user_id", flat=True)
    }
    groups_before = groups_of_users(property_id=prop.pk, user_ids=users)
    windows_before = membership_windows(property_id=prop.pk, user_ids=users)
    groups_after = {user_id: set(g) for user_id, g in groups_before.items()}
    windows_after = {user_id: dict(w) for user_id, w in windows_before.items()}
    for kind, user_id, group_id, _, window in groups_delta:
        if kind == "addMembership":
            groups_after[user_id].add(group_id)  # adding a member again keeps their window
        elif kind == "removeMembership":
            groups_after[user_id].discard(group_id)
            windows_after[user_id].pop(group_id, None)
        else:  # setMembershipWindow: as addUserToUserGroup with a window, a non-member joins with it
            groups_after[user_id].add(group_id)
            if window == ("", ""):
                windows_after[user_id].pop(group_id, None)
            else:
                windows_after[user_id][group_id] = window
    result = what_if(
        before=before,
        after=after,
        groups_before=groups_before,
        groups_after=groups_after,
        user_ids=users,
        windows_before=windows_before,
        windows_after=windows_after,
        now=now,
    )

    locks = _names(prop.pk).locks
    people = {str(i): n for i, n in User.objects.filter(pk__in=list(users)).values_list("id", "display_name")}
    for row in (*result["gains"], *result["losses"], *result["changed"]):
        row["lockName"], row["userDisplayName"] = locks.get(row["lockId"], ""), people.get(row["userId"], "")
    return result
