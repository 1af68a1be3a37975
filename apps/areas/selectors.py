"""Reads for areas."""

from django.db.models import F, QuerySet

from apps.areas.models import Area


def area_list(*, property_id) -> QuerySet[Area]:
    """Live areas of a property, each with its area group's id as `area_user_group_pk` (joined,
    not a UserGroup row per area). The API reads each page's direct children with
    `sub_area_ids`, its locks with locks.selectors.lock_ids_by_area; external refs and firmware
    are read per page by the serializer."""
    return Area.objects.alive().filter(property_id=property_id).annotate(area_user_group_pk=F("area_user_group__id"))


def sub_area_ids(area_ids) -> dict:
    """{area id: [str(live child id), ...] by id} for these areas, in one query of bare ids (no
    model instances: a page of 50 areas has about a hundred children)."""
    children: dict = {pk: [] for pk in area_ids}
    rows = Area.objects.alive().filter(parent_id__in=list(children)).order_by("id").values_list("parent_id", "id")
    for parent_id, child_id in rows:
        children[parent_id].append(str(child_id))
    return children


def area_get(*, property_id, area_id) -> Area | None:
    return area_list(property_id=property_id).filter(pk=area_id).first()


def area_tree(*, property_id) -> list[Area]:
    """Live areas of a property in tree order (each parent before its children, siblings by
    name), for display indented by `depth`. Sorting on the stored `ancestor_ids` path needs
    one query and no recursion."""
    areas = list(
        Area.objects.alive()
        .filter(property_id=property_id)
        .only("id", "display_name", "area_type", "parent_id", "ancestor_ids", "depth")
    )
    sort_key = {str(area.pk): (area.display_name.casefold(), str(area.pk)) for area in areas}

    def path(area: Area) -> list[tuple[str, str]]:
        return [sort_key.get(i, ("", i)) for i in reversed(area.ancestor_ids)] + [sort_key[str(area.pk)]]

    return sorted(areas, key=path)
