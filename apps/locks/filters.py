import django_filters

from apps.locks.models import Lock


class LockFilterSet(django_filters.FilterSet):
    """listLocks filters: `propertyId` (spec), `areaId` (extension)."""

    propertyId = django_filters.UUIDFilter(field_name="property_id", help_text="Only this property's locks.")
    areaId = django_filters.UUIDFilter(field_name="area_id", help_text="Extension: only locks installed here.")

    class Meta:
        model = Lock
        fields = []
