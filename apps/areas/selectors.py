"""Reads for areas."""

from django.db.models import F, QuerySet

from apps.areas.models import Area


def area_list(*, property_id) -> QuerySet[Area]:
    """Live areas of a property, each with its area group's id as `area_user_group_pk` (joined,
    not a UserGroup row per area). The API reads each page's locks, direct children and external
    refs in one query (locks.selectors.area_links), firmware per page."""
    return Area.objects.alive().filter(property_id=property_id).annotate(area_user_group_pk=F("area_user_group__id"))


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
