"""Writes for areas: create, update (rename, access list), move, delete. One transaction each."""

from django.db import transaction

from apps.areas.models import Area
from apps.areas.tree import ancestors, subtree_ids
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.services import event_append

ACCESS_TYPES = ("group", "area", "schedule")


def _parent_in(prop, parent_id, field: str = "parentAreaId") -> Area | None:
    if parent_id is None:
        return None
    parent = Area.objects.alive().filter(pk=parent_id, property=prop).first()
    if parent is None:
        raise ApplicationError(
            f"{field}: no area {parent_id} in this property", fields={field: [f"No area {parent_id} in this property."]}
        )
    return parent


def access_list_clean(prop, entries: list[dict]) -> list[dict]:
    """Check spec AccessListEntry items (+ the `scheduleId` extension): a `group` entry names a
    live group, an `area` entry a live area, a `schedule` entry (free passage) a schedule, all
    of the same property; any entry may add `scheduleId`. Returns them normalised to strings.
    Looks up only the ids named."""
    from apps.access.models import Schedule, UserGroup

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
    """Create an area and its area user group (events `area.created`, `group.created`)."""
    from apps.access.services import area_group_create

    parent = _parent_in(prop, parent_id)
    area = Area(
        property=prop,
        parent=parent,
        display_name=display_name,
        area_type=area_type,
        ancestor_ids=[str(parent.pk), *parent.ancestor_ids] if parent else [],
        depth=parent.depth + 1 if parent else 0,
        last_modified_by=actor,
        **({"id": area_id} if area_id else {}),
    )
    area.access_list = access_list_clean(prop, access_list or [])
    area.full_clean()
    area.save()
    event_append(
        event_name="area.created",
        actor=actor,
        property_id=prop.pk,
        area_id=area.pk,
        payload={"parentAreaId": str(parent.pk) if parent else None, "areaType": area_type},
    )
    area_group_create(area=area, actor=actor)
    return area


def _move(area: Area, parent: Area | None, actor: str) -> None:
    """Re-hang `area` (and its subtree) under `parent`, refusing cycles."""
    if parent is not None and (parent.pk == area.pk or str(area.pk) in parent.ancestor_ids):
        message = f"moving area {area.pk} under area {parent.pk} would create a cycle"
        raise ApplicationError(message, fields={"parentAreaId": [message]})
    old_parent_id = area.parent_id
    area.parent = parent
    parent_of = dict(Area.objects.alive().filter(property_id=area.property_id).values_list("id", "parent_id"))
    parent_of[area.pk] = parent.pk if parent else None
    subtree = Area.objects.in_bulk(subtree_ids(parent_of, area.pk))
    for node in subtree.values():
        chain = ancestors(parent_of, node.pk)
        node.ancestor_ids, node.depth = [str(i) for i in chain], len(chain)
        if node.pk == area.pk:
            area.ancestor_ids, area.depth = node.ancestor_ids, node.depth
    Area.objects.bulk_update([n for n in subtree.values() if n.pk != area.pk], ["ancestor_ids", "depth"])
    event_append(
        event_name="area.moved",
        actor=actor,
        property_id=area.property_id,
        area_id=area.pk,
        payload={
            "from": str(old_parent_id) if old_parent_id else None,
            "to": str(parent.pk) if parent else None,
            "subtreeSize": len(subtree),
        },
    )


_KEEP = object()


def _area_group_follow_rename(area: Area, new_name: str, actor: str) -> None:
    """The area group keeps "<area> members" in step with the area's name (unless a manager
    gave it a name of its own)."""
    from apps.access.models import UserGroup
    from apps.access.services import user_group_update

    group = UserGroup.objects.filter(area=area).first()
    if group is not None and group.display_name == f"{area.display_name} members":
        user_group_update(group=group, display_name=f"{new_name} members", actor=actor)


@transaction.atomic
def area_update(
    *, area: Area, actor: str, display_name: str | None = None, access_list: list[dict] | None = None, parent_id=_KEEP
) -> Area:
    """Rename, change the access list, or move (events `area.updated`, `area.moved`).

    `accessListVersion` rises only when the access list content changes.
    """
    area = Area.objects.select_for_update().select_related("property").get(pk=area.pk)
    changed = []
    if display_name is not None and display_name != area.display_name:
        _area_group_follow_rename(area, display_name, actor)
        area.display_name = display_name
        changed.append("displayName")
    if access_list is not None:
        cleaned = access_list_clean(area.property, access_list)
        if cleaned != area.access_list:
            area.access_list = cleaned
            area.access_list_version += 1
            changed.append("accessList")
    if parent_id is not _KEEP and parent_id != area.parent_id:
        _move(area, _parent_in(area.property, parent_id), actor)
        changed.append("parentAreaId")
    if changed:
        area.last_modified_by = actor
        area.full_clean()
        area.save()
        if changed != ["parentAreaId"]:
            event_append(
                event_name="area.updated",
                actor=actor,
                property_id=area.property_id,
                area_id=area.pk,
                payload={"changed": changed, "accessListVersion": area.access_list_version},
            )
    return area


@transaction.atomic
def area_delete(*, area: Area, actor: str) -> None:
    """Soft-delete an area with its area group (event `area.deleted`).

    Refused (409, listing what blocks it) while it has sub-areas or installed locks, or while
    another area's access list grants this area or its group.
    """
    from apps.access.services import _areas_referencing, user_group_delete_with_owner

    # of=self: PostgreSQL cannot lock the nullable side of the outer join to the area group.
    area = Area.objects.select_for_update(of=("self",)).select_related("area_user_group").get(pk=area.pk)
    blocked = {}
    children = [str(i) for i in area.children.alive().values_list("id", flat=True)]
    if children:
        blocked["subAreaIds"] = children
    locks = [str(i) for i in area.locks.alive().values_list("id", flat=True)]
    if locks:
        blocked["lockIds"] = locks
    group = getattr(area, "area_user_group", None)
    referencing = set(_areas_referencing(property_id=area.property_id, key="areaId", value=area.pk))
    if group is not None:
        referencing |= set(_areas_referencing(property_id=area.property_id, key="userGroupId", value=group.pk))
    referencing.discard(str(area.pk))
    if referencing:
        blocked["referencedByAreaIds"] = sorted(referencing)
    if blocked:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in blocked.items())
        raise ConflictError(f"area {area.pk} cannot be deleted: {detail}", extra={"blockedBy": blocked})
    if group is not None:
        user_group_delete_with_owner(group=group, actor=actor)
    area.type_state = EntityTypeState.DELETED
    area.last_modified_by = actor
    area.save(update_fields=["type_state", "last_modified_by", "last_modified_at"])
    event_append(event_name="area.deleted", actor=actor, property_id=area.property_id, area_id=area.pk)
