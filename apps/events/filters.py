"""listEvents filters (spec op 46 plus Keyhouse extensions). The help texts are the OpenAPI
descriptions too (api.py builds the parameters from this FilterSet)."""

import django_filters
from rest_framework.exceptions import ValidationError

from apps.events.constants import FAILING_AFTER_ATTEMPTS
from apps.events.models import Event, failing_q
from apps.events.selectors import event_source_known, event_source_list

_BOOLEAN = [("true", "true"), ("false", "false")]


def _boolean(help_text: str) -> django_filters.TypedChoiceFilter:
    """`true` / `false` only: anything else is a 400, never a silently ignored filter."""
    return django_filters.TypedChoiceFilter(
        choices=_BOOLEAN, coerce=lambda value: value == "true", method="filter_flag", help_text=help_text
    )


def _uuid(field_name: str, help_text: str) -> django_filters.UUIDFilter:
    return django_filters.UUIDFilter(field_name=field_name, help_text=help_text)


class EventFilterSet(django_filters.FilterSet):
    """listEvents: the spec's filters (entity ids, eventSource, firmwareVersion) plus
    `eventName`, `userDeviceId`, `processed` and `failing` (extensions)."""

    eventSource = django_filters.CharFilter(
        method="filter_source",
        help_text=(
            "Entity kind the events come from: the part of eventName before the dot "
            "(`area` for `area.moved`). Optional (absent = every source); an unknown value is a 400 "
            "that lists the accepted ones."
        ),
    )
    eventName = django_filters.CharFilter(field_name="event_name", help_text="Extension: exactly this eventName.")
    propertyId = _uuid("property_id", "Only events of this property.")
    areaId = _uuid("area_id", "Only events about this area.")
    userGroupId = _uuid("user_group_id", "Only events about this user group.")
    lockId = _uuid("lock_id", "Only events about this lock.")
    userId = _uuid("user_id", "Only events about this user.")
    userDeviceId = _uuid("user_device_id", "Extension: only events about this user device.")
    apiKeyId = _uuid("api_key_id", "Only events about this API key.")
    keyId = _uuid("key_id", "Only events about this key.")
    firmwareVersion = django_filters.CharFilter(
        field_name="firmware_version", help_text="Only events about this firmware version."
    )
    processed = _boolean("Extension: `true` = processed events only, `false` = not (yet) processed.")
    failing = _boolean(
        f"Extension: `true` = failing events only (unprocessed after {FAILING_AFTER_ATTEMPTS} attempts; "
        "still retried), `false` = the others."
    )

    class Meta:
        model = Event
        fields = []

    def filter_source(self, queryset, name, value):
        if not event_source_known(value):
            allowed = ", ".join(event_source_list())
            raise ValidationError({"eventSource": [f"Unknown event source {value!r}; one of: {allowed}."]})
        return queryset.filter(event_source=value)

    def filter_flag(self, queryset, name, value):
        if name == "processed":
            return queryset.filter(processed_at__isnull=not value)
        return queryset.filter(failing_q()) if value else queryset.exclude(failing_q())
