"""Spec Property / NewProperty / PropertyWritable."""

import zoneinfo

from rest_framework import serializers

from apps.core.api.serializers import (
    AddressSerializer,
    EntitySerializer,
    ExternalRefsField,
    InputSerializer,
    page_cached,
)
from apps.firmware.serializers import RequiredFirmwarePrivateField
from apps.properties.models import Property
from apps.properties.selectors import access_manager_ids


def _access_manager_ids(properties) -> dict:
    return access_manager_ids([prop.pk for prop in properties])


class PropertySerializer(EntitySerializer):
    """Spec Property (+ `timeZone`). `private`: requiredFirmwareVersion (propertyKey comes with keys)."""

    propertyId = serializers.UUIDField(source="id", read_only=True)
    ownerId = serializers.UUIDField(source="owner_id", read_only=True, allow_null=True)
    externalRefs = ExternalRefsField()
    address = AddressSerializer(read_only=True)
    accessManagerIds = serializers.SerializerMethodField()
    timeZone = serializers.CharField(source="time_zone", read_only=True)
    private = RequiredFirmwarePrivateField(kind="property")

    class Meta:
        model = Property
        fields = (
            "propertyId",
            "ownerId",
            "externalRefs",
            "display_name",
            "address",
            "accessManagerIds",
            "timeZone",
            "private",
            *EntitySerializer.BASE_FIELDS,
        )

    def get_accessManagerIds(self, obj) -> list[str]:
        managers = page_cached(self.fields["accessManagerIds"], "_access_manager_ids", _access_manager_ids)
        if managers is None:
            managers = _access_manager_ids([obj])
        return managers.get(obj.pk, [])


# The schema lists every name the server accepts (`TimeZoneEnum`), as validate_time_zone checks them.
TIME_ZONES = sorted(zoneinfo.available_timezones())


class PropertyWritableSerializer(InputSerializer):
    """Spec PropertyWritable (+ `timeZone`, `ownerId`); PUT replaces these fields."""

    displayName = serializers.CharField(max_length=200)
    address = AddressSerializer()
    accessManagerIds = serializers.ListField(child=serializers.UUIDField(), max_length=100)
    timeZone = serializers.ChoiceField(
        choices=TIME_ZONES,
        required=False,
        error_messages={"invalid_choice": "'{input}' is not an IANA time zone name (e.g. Europe/Berlin)."},
    )
    ownerId = serializers.UUIDField(required=False)


class NewPropertySerializer(PropertyWritableSerializer):
    """Spec NewProperty input: PropertyWritable, `accessManagerIds` may be left out."""

    accessManagerIds = serializers.ListField(child=serializers.UUIDField(), max_length=100, required=False)
