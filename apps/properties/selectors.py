"""Reads for properties, scoped to what the caller's grants reach."""

from django.db.models import QuerySet

from apps.core.principal import ALL
from apps.properties.models import Property


def property_list(*, property_ids=ALL) -> QuerySet[Property]:
    """Live properties, limited to `property_ids` (ALL = no limit), with their managers."""
    queryset = Property.objects.alive().prefetch_related("access_managers")
    if property_ids is not ALL:
        queryset = queryset.filter(pk__in=property_ids)
    return queryset


def property_get(*, property_id) -> Property | None:
    return property_list().filter(pk=property_id).first()


def property_exists(*, property_id) -> bool:
    return Property.objects.alive().filter(pk=property_id).exists()


def live_property_ids(property_ids) -> set:
    """Which of `property_ids` name a live property (accounts.services.live_property_ids)."""
    return set(Property.objects.alive().filter(pk__in=list(property_ids)).values_list("pk", flat=True))
