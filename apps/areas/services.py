"""Writes for the area tree: create, rename, move, delete. One transaction each.

An area's access list and its area group belong to apps.access, which builds on these
(access.services.area_create / area_update / area_delete): call those, not these, unless
you are access.
"""

from collections.abc import Callable

from django.db import transaction

from apps.areas.models import Area
from apps.areas.tree import ancestors, subtree_ids
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.services import event_append, events_append


def _parent_in(prop, parent_id, field: str = "parentAreaId") -> Area | None:
    if parent_id is None:
        return None
    parent = Area.objects.alive().filter(pk=parent_id, property=prop).first()
    if parent is None:
        raise ApplicationError(
            f"{field}: no area {parent_id} in this property", fields={field: [f"No area {parent_id} in this property."]}
        )
    return parent


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
    """Create an area (event `area.created`) with an access list that apps.access has
    already checked (access.services.area_create, which also makes its area group)."""
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
    area.access_list = access_list or []
    area.full_clean()
    area.save()
    event_append(
        event_name="area.created",
        actor=actor,
        property_id=prop.pk,
        area_id=area.pk,
        payload={"parentAreaId": str(parent.pk) if parent else None, "areaType": area_type},
    )
    return area


def areas_create(*, prop, areas: list[dict], actor: str) -> list[Area]:
    """Many top-level areas of one property in one INSERT (the batch variant of `area_create`
    for an integration's first poll): each dict is `display_name`, `area_type` and an
    `access_list` apps.access has checked. Each area is checked as one created alone (its
    fresh id's uniqueness aside) and gets its own `area.created` event. The caller holds the
    transaction (access.services.areas_create)."""
    rows = []
    for spec in areas:
        area = Area(
            property=prop,
            parent=None,
            display_name=spec["display_name"],
            area_type=spec["area_type"],
            ancestor_ids=[],
            depth=0,
            access_list=spec.get("access_list") or [],
            last_modified_by=actor,
        )
        area.full_clean(validate_unique=False, validate_constraints=False)
        rows.append(area)
    Area.objects.bulk_create(rows, batch_size=500)
    events_append(
        events=[
            {
                "event_name": "area.created",
                "property_id": prop.pk,
                "area_id": area.pk,
                "payload": {"parentAreaId": None, "areaType": area.area_type},
            }
            for area in rows
        ],
        actor=actor,
    )
    return rows


def _move(area: Area, parent: Area | None, actor: str) -> None:
    """Re-hang `area` (and its subtree) under `parent`, refusing cycles."""
    if parent is not None and (parent.pk == area.pk or str(area.pk) in parent.ancestor_ids):
        where = "itself" if parent.pk == area.pk else f"'{parent.display_name}', which is inside it"
        message = f"Area '{area.display_name}' cannot move under {where}: that would create a cycle."
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


KEEP = object()  # area_update: leave the parent as it is


@transaction.atomic
def area_update(
    *, area: Area, actor: str, display_name: str | None = None, access_list: list[dict] | None = None, parent_id=KEEP
) -> Area:
    """Rename, set an access list apps.access has checked, or move (events `area.updated`,
    `area.moved`). `accessListVersion` rises only when the access list content changes.
    """
    area = Area.objects.select_for_update().select_related("property").get(pk=area.pk)
    changed = []
    if display_name is not None and display_name != area.display_name:
        area.display_name = display_name
        changed.append("displayName")
    if access_list is not None and access_list != area.access_list:
        area.access_list = access_list
        area.access_list_version += 1
        changed.append("accessList")
    if parent_id is not KEEP and parent_id != area.parent_id:
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
def area_delete(
    *,
    area: Area,
    actor: str,
    blocked_by: Callable[[Area], dict[str, list[str]]] | None = None,
    cascade: Callable[[Area], None] | None = None,
) -> None:
    """Soft-delete an area (event `area.deleted`).

    Refused (409, listing what blocks it) while it has sub-areas or installed locks, or
    whatever `blocked_by(area)` names; `cascade(area)` then removes what goes with it, in this
    transaction (apps.access passes both: access lists naming it, its area group).
    """
    area = Area.objects.select_for_update().get(pk=area.pk)
    blocked = {}
    children = [str(i) for i in area.children.alive().values_list("id", flat=True)]
    if children:
        blocked["subAreaIds"] = children
    locks = [str(i) for i in area.locks.alive().values_list("id", flat=True)]
    if locks:
        blocked["lockIds"] = locks
    if blocked_by is not None:
        blocked.update(blocked_by(area))
    if blocked:
        raise ConflictError(_delete_refusal(area, blocked), extra={"blockedBy": blocked})
    if cascade is not None:
        cascade(area)
    area.type_state = EntityTypeState.DELETED
    area.last_modified_by = actor
    area.save(update_fields=["type_state", "last_modified_by", "last_modified_at"])
    event_append(event_name="area.deleted", actor=actor, property_id=area.property_id, area_id=area.pk)


# What blocks a delete, in words a manager reads (the ids stay in the 409's `blockedBy`).
_BLOCKER_WORDS = {
    "subAreaIds": "it has sub-areas",
    "lockIds": "locks are installed in it",
    "referencedByAreaIds": "the access lists of these areas name it",
}


def _delete_refusal(area: Area, blocked: dict[str, list[str]]) -> str:
    """ "Area 'Building' cannot be deleted: it has sub-areas 'Floor 1', 'Floor 2'." """
    lock_names = dict(area.locks.values_list("id", "display_name"))
    area_ids = [i for key, ids in blocked.items() if key != "lockIds" for i in ids]
    area_names = dict(Area.objects.filter(pk__in=area_ids).values_list("id", "display_name"))
    names = {str(k): v for k, v in (lock_names | area_names).items()}
    parts = []
    for key, ids in blocked.items():
        listed = ", ".join(f"'{names.get(i, i)}'" for i in ids)
        parts.append(f"{_BLOCKER_WORDS.get(key, key)}: {listed}")
    return f"Area '{area.display_name}' cannot be deleted: {'; '.join(parts)}."
