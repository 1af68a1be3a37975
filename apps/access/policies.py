"""Rules of the access model that services, selectors, the API, the admin and imports all
apply (reads, never writes): what an access list may name, and whom a caller reaches.

Reach (docs/API.md "Permissions and scope"): a property-scoped caller sees and names the
people tied to its properties: in one of their groups, holding a permission scoped to one,
holding an unrevoked door grant or a block at one, owning or managing one. A scoped caller
names only people it already reaches; otherwise a key for property A could act on, or learn
the name of, a person who belongs only to property B, and the answer for an id of B's would
differ from the answer for an id that does not exist.
"""

from django.db.models import Q, QuerySet

from apps.access.models import Membership, Schedule, UserGroup
from apps.accounts.models import PermissionGrant, User
from apps.accounts.selectors import user_list
from apps.areas.models import Area
from apps.core.api.principal import ALL, Principal
from apps.core.exceptions import ApplicationError
from apps.properties.models import Property

ACCESS_TYPES = ("group", "area", "schedule")


def access_list_clean(prop, entries: list[dict]) -> list[dict]:
    """Check spec AccessListEntry items (+ the `scheduleId` extension): a `group` entry names a
    live group, an `area` entry a live area, a `schedule` entry (free passage) a schedule, all
    of the same property; any entry may add `scheduleId`. Returns them normalised to strings.
    Looks up only the ids named."""
    wanted = {"userGroupId": set(), "areaId": set(), "scheduleId": set()}
    for entry in entries:
        for key, ids in wanted.items():
            if entry.get(key):
                ids.add(str(entry[key]))
    known = {
        "userGroupId": UserGroup.objects.alive().filter(property=prop, pk__in=wanted["userGroupId"]),
        "areaId": Area.objects.alive().filter(property=prop, pk__in=wanted["areaId"]),
        "scheduleId": Schedule.objects.alive().filter(property=prop, pk__in=wanted["scheduleId"]),
    }
    known = {
        key: {str(i) for i in qs.values_list("id", flat=True)} if wanted[key] else set() for key, qs in known.items()
    }
    needs = {"group": "userGroupId", "area": "areaId", "schedule": "scheduleId"}
    missing = {"userGroupId": "No such user group", "areaId": "No such area", "scheduleId": "No such schedule"}
    cleaned, errors = [], {}
    for index, entry in enumerate(entries):
        kind = entry.get("accessType")
        if kind not in ACCESS_TYPES:
            errors[f"accessList[{index}].accessType"] = [f"Must be one of {', '.join(ACCESS_TYPES)}."]
            continue
        item = {"accessType": kind}
        for key in (needs[kind], "scheduleId"):
            value = str(entry.get(key) or "")
            if key == "scheduleId" and not value and kind != "schedule":
                continue
            item[key] = value
            if value not in known[key]:
                errors[f"accessList[{index}].{key}"] = [f"{missing[key]} in this property."]
        cleaned.append(item)
    if errors:
        raise ApplicationError("invalid access list", fields=errors)
    return cleaned


# --- reach ------------------------------------------------------------------------------------


def user_tied_outside(*, user_id, property_ids) -> bool:
    """True when the user is in a group of, holds a grant on, owns or manages a live property
    outside `property_ids`, or holds a grant on no property (which reaches every property)."""
    outside = Property.objects.alive().exclude(pk__in=property_ids)
    return (
        Membership.objects.filter(user_id=user_id, user_group__property__in=outside)
        .exclude(user_group__type_state="deleted")
        .exists()
        or PermissionGrant.objects.filter(user_id=user_id).exclude(property_id__in=property_ids).exists()
        or outside.filter(Q(owner_id=user_id) | Q(access_managers=user_id)).exists()
    )


def _reached_by(users: QuerySet[User], property_ids) -> QuerySet[User]:
    """Users a caller reaching `property_ids` may see: in one of their groups, holding a
    permission scoped to one, holding an unrevoked door-access grant or a block at one (a guest,
    someone a manager of that property shut out), owning or managing one."""
    if property_ids is ALL:
        return users
    return users.filter(
        Q(memberships__user_group__property_id__in=property_ids, memberships__user_group__type_state="active")
        | Q(grants__property_id__in=property_ids)
        | Q(access_grants__property_id__in=property_ids, access_grants__revoked_at__isnull=True)
        | Q(access_blocks__property_id__in=property_ids)
        | Q(owned_properties__in=property_ids)
        | Q(managed_properties__in=property_ids)
    ).distinct()


def user_visible(*, user_id, property_ids) -> User | None:
    """The live user, if a caller reaching `property_ids` may see them (ALL = anyone)."""
    return _reached_by(user_list().filter(pk=user_id), property_ids).first()


def user_ids_visible(*, user_ids, property_ids) -> set:
    """Which of `user_ids` are live users a caller reaching `property_ids` may see."""
    users = _reached_by(User.objects.alive().filter(pk__in=list(user_ids)), property_ids)
    return set(users.values_list("pk", flat=True))


def user_named(principal: Principal, permissions: frozenset[str], user_id) -> User | None:
    """The live user `user_id` if a caller holding `permissions` may name them, else None
    (whether the person belongs elsewhere or does not exist at all).

    - themself (`me`), and anyone for an unscoped grant or a grant scoped to that person;
    - otherwise the people reached through the properties the caller's grants cover (for
      `me`, the properties the person belongs to): in one of their groups, holding a grant
      or a block there, owning or managing one (selectors.user_visible).
    """
    if user_id is None:
        return None
    if principal.allows(permissions, user_id=user_id):
        return user_visible(user_id=user_id, property_ids=ALL)
    return user_visible(user_id=user_id, property_ids=principal.property_ids_for(permissions))
