"""Reads for user groups and membership."""

from django.db.models import QuerySet

from apps.access.models import Membership, UserGroup
from apps.core.api.principal import ALL


def user_group_list(*, property_id=None, property_ids=ALL) -> QuerySet[UserGroup]:
    """Live groups, of one property and/or limited to `property_ids`."""
    queryset = UserGroup.objects.alive().prefetch_related("external_refs")
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
    """Properties where the user is in at least one live group (what `me` reaches)."""
    return frozenset(
        Membership.objects.filter(user_id=user_id, user_group__type_state__in=["active", "inactive"])
        .values_list("user_group__property_id", flat=True)
        .distinct()
    )
