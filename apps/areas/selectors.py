"""Reads for areas."""

from django.db.models import Prefetch, QuerySet

from apps.areas.models import Area


def area_list(*, property_id) -> QuerySet[Area]:
    """Live areas of a property, with their group and direct children in one extra query (the
    API adds each area's locks: locks.selectors.area_locks_prefetch; external refs are read per
    page by the serializer)."""
    return (
        Area.objects.alive()
        .filter(property_id=property_id)
        .select_related("area_user_group")
        .prefetch_related(
            Prefetch(
                "children",
                queryset=Area.objects.alive().only("id", "parent_id").order_by("id"),
                to_attr="live_children",
            ),
        )
    )


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
