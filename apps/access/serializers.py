"""Spec UserGroup / CreateUserGroupInput / UserGroupWritable."""

from rest_framework import serializers

from apps.access.models import UserGroup, UserGroupGroupSource, UserGroupGroupType
from apps.core.api.serializers import EntitySerializer, ExternalRefsField, InputSerializer


class UserGroupSerializer(EntitySerializer):
    """Spec UserGroup."""

    propertyId = serializers.UUIDField(source="property_id", read_only=True)
    userGroupId = serializers.UUIDField(source="id", read_only=True)
    groupSource = serializers.ChoiceField(source="group_source", choices=UserGroupGroupSource.choices, read_only=True)
    externalRefs = ExternalRefsField()
    areaId = serializers.UUIDField(source="area_id", read_only=True, allow_null=True)
    groupType = serializers.ChoiceField(source="group_type", choices=UserGroupGroupType.choices, read_only=True)

    class Meta:
        model = UserGroup
        fields = (
            "propertyId",
            "userGroupId",
            "groupSource",
            "externalRefs",
            "areaId",
            "display_name",
            "groupType",
            *EntitySerializer.BASE_FIELDS,
        )


class CreateUserGroupSerializer(InputSerializer):
    """Spec CreateUserGroupInput (+ `displayName`; `common` allowed as in UserGroup)."""

    groupType = serializers.ChoiceField(choices=UserGroupGroupType.choices)
    displayName = serializers.CharField(max_length=200, required=False)


class UserGroupWritableSerializer(InputSerializer):
    """Spec UserGroupWritable."""

    displayName = serializers.CharField(max_length=200)
