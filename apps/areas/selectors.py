"""Reads for areas."""

from django.db.models import Prefetch, QuerySet

from apps.areas.models import Area


def area_list(*, property_id) -> QuerySet[Area]:
    """Live areas of a property, with their group and direct children in two extra queries."""
    return (
        Area.objects.alive()
        .filter(property_id=property_id)
        .select_related("area_user_group")
        .prefetch_related(
            "external_refs",
            Prefetch(
                "children",
                queryset=Area.objects.alive().only("id", "parent_id").order_by("id"),
                to_attr="live_children",
            ),
        )
    )


def area_get(*, property_id, area_id) -> Area | None:
    return area_list(property_id=property_id).filter(pk=area_id).first()
