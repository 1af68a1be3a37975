import re
import uuid

import django_filters
from rest_framework.exceptions import ValidationError

from apps.areas.models import Area, AreaAreaType

# an area id (a hyphenated UUID) or `none`; the schema states the same pattern
PARENT_PATTERN = r"^(none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"


class AreaFilterSet(django_filters.FilterSet):
    """listAreas filters: `areaType`, `parentAreaId` (`none` = top level), `q` (name contains)."""

    areaType = django_filters.ChoiceFilter(
        field_name="area_type", choices=AreaAreaType.choices, help_text="Only this area type."
    )
    parentAreaId = django_filters.CharFilter(
        method="filter_parent", help_text="Only direct children of this area; `none` = top level."
    )
    parentAreaId.schema_pattern = PARENT_PATTERN
    q = django_filters.CharFilter(
        field_name="display_name", lookup_expr="icontains", help_text="Name contains (case-insensitive)."
    )

    class Meta:
        model = Area
        fields = []

    def filter_parent(self, queryset, name, value):
        if value == "none":
            return queryset.filter(parent__isnull=True)
        if not re.fullmatch(PARENT_PATTERN, value):
            raise ValidationError({"parentAreaId": ["Must be an area id or `none`."]})
        return queryset.filter(parent_id=uuid.UUID(value))
