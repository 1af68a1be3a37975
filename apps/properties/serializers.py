"""Spec Property / NewProperty / PropertyWritable."""

from rest_framework import serializers

from apps.core.api.serializers import AddressSerializer, EntitySerializer, ExternalRefsField, InputSerializer
from apps.core.validators import validate_time_zone
from apps.firmware.serializers import RequiredFirmwarePrivateField
from apps.properties.models import Property


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
        return [str(user.pk) for user in obj.access_managers.all()]


def _time_zone(value):
    from django.core.exceptions import ValidationError

    try:
        validate_time_zone(value)
    except ValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None
    return value


class PropertyWritableSerializer(InputSerializer):
    """Spec PropertyWritable (+ `timeZone`, `ownerId`); PUT replaces these fields."""

    displayName = serializers.CharField(max_length=200)
    address = AddressSerializer()
    accessManagerIds = serializers.ListField(child=serializers.UUIDField(), max_length=100)
    timeZone = serializers.CharField(max_length=64, required=False, validators=[_time_zone])
    ownerId = serializers.UUIDField(required=False)


class NewPropertySerializer(PropertyWritableSerializer):
    """Spec NewProperty input: PropertyWritable, `accessManagerIds` may be left out."""

    accessManagerIds = serializers.ListField(child=serializers.UUIDField(), max_length=100, required=False)
