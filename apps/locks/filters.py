import django_filters
from django import forms

from apps.locks.models import Lock, LockHealth
from apps.locks.selectors import ATTENTION


class LockFilterSet(django_filters.FilterSet):
    """listLocks filters: `propertyId` (spec), `areaId` (extension)."""

    propertyId = django_filters.UUIDFilter(field_name="property_id", help_text="Only this property's locks.")
    areaId = django_filters.UUIDFilter(field_name="area_id", help_text="Extension: only locks installed here.")

    class Meta:
        model = Lock
        fields = []


class _TrueOrFalseField(forms.NullBooleanField):
    """`true` / `false` (absent: no filter); anything else is a 400 naming the parameter."""

    widget = forms.TextInput  # the raw text: NullBooleanSelect turns unknown words into "no filter"

    def to_python(self, value):
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError("Must be true or false.")

    def validate(self, value):
        pass


class TrueOrFalseFilter(django_filters.BooleanFilter):
    field_class = _TrueOrFalseField


class LockHealthFilterSet(django_filters.FilterSet):
    """listPropertyLockHealth filters."""

    attention = TrueOrFalseFilter(
        method="filter_attention",
        help_text="true: only locks needing attention (battery low, offline, held open or stale); "
        "false: only those needing none.",
    )

    class Meta:
        model = LockHealth
        fields = []

    def filter_attention(self, queryset, name, value):
        return queryset if value is None else queryset.filter(ATTENTION) if value else queryset.exclude(ATTENTION)
