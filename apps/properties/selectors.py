"""Reads for properties, scoped to what the caller's grants reach."""

from django.db.models import QuerySet

from apps.core.principal import ALL
from apps.properties.models import Property


def property_list(*, property_ids=ALL) -> QuerySet[Property]:
    """Live properties, limited to `property_ids` (ALL = no limit). Their managers' ids are
    read per page by the serializer (`access_manager_ids`)."""
    queryset = Property.objects.alive()
    if property_ids is not ALL:
        queryset = queryset.filter(pk__in=property_ids)
    return queryset


def property_get(*, property_id) -> Property | None:
    return property_list().filter(pk=property_id).first()


def access_manager_ids(property_ids) -> dict:
    """{property id: [str(user id), ...] by id} in one query of bare ids from the link table
    (a prefetch built a whole User row for each id the API shows)."""
    managers: dict = {pk: [] for pk in property_ids}
    links = Property.access_managers.through.objects.filter(property_id__in=list(managers))
    for property_id, user_id in links.order_by("user_id").values_list("property_id", "user_id"):
        managers[property_id].append(str(user_id))
    return managers


def property_exists(*, property_id) -> bool:
    return Property.objects.alive().filter(pk=property_id).exists()


def live_property_ids(property_ids) -> set:
    """Which of `property_ids` name a live property (accounts.services.live_property_ids)."""
    return set(Property.objects.alive().filter(pk__in=list(property_ids)).values_list("pk", flat=True))
