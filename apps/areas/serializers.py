"""Spec Area / CreateAreaInput / AreaWritable / AccessListEntry."""

from rest_framework import serializers

from apps.areas.models import Area, AreaAreaType
from apps.core.api.serializers import (
    DirectFieldsMixin,
    EntitySerializer,
    ExternalRefsField,
    InputSerializer,
    page_cached,
)
from apps.firmware.serializers import RequiredFirmwarePrivateField
from apps.locks.selectors import AreaLinks, area_links


class AccessListEntrySerializer(InputSerializer):
    """Spec AccessListEntry (+ `scheduleId`). `group` needs `userGroupId`, `area` needs
    `areaId`, `schedule` (free passage during the schedule) needs `scheduleId`; any entry may
    carry `scheduleId` to hold only during that schedule (docs/ACCESS.md)."""

    accessType = serializers.ChoiceField(choices=["group", "area", "schedule"])
    userGroupId = serializers.UUIDField(required=False, allow_null=True)
    areaId = serializers.UUIDField(required=False, allow_null=True)
    scheduleId = serializers.UUIDField(
        required=False, allow_null=True, help_text="Extension: only during this schedule."
    )

    NEEDED = {"group": "userGroupId", "area": "areaId", "schedule": "scheduleId"}

    @classmethod
    def request_schema(cls, schema: dict) -> dict:
        """One variant per `accessType`, each requiring the id that type needs (validate below)."""
        variants = []
        for access_type, needed in cls.NEEDED.items():
            properties = {
                **schema["properties"],
                "accessType": {"type": "string", "enum": [access_type]},
                needed: {"type": "string", "format": "uuid"},
            }
            variants.append({**schema, "required": ["accessType", needed], "properties": properties})
        return {"oneOf": variants}

    def validate(self, attrs):
        needed = self.NEEDED.get(attrs["accessType"])
        if needed and not attrs.get(needed):
            raise serializers.ValidationError({needed: [f"Required when accessType is {attrs['accessType']}."]})
        return attrs


def _links(areas) -> dict:
    return area_links([area.pk for area in areas])


class AreaExternalRefsField(ExternalRefsField):
    """An area's externalRefs come with its lockIds and subAreaIds (AreaSerializer.links)."""

    def refs(self, obj) -> list:
        return self.parent.links(obj).external_refs


class AreaSerializer(DirectFieldsMixin, EntitySerializer):
    """Spec Area. `private`: requiredFirmwareVersion (keyMapEntries, keyMapVersion come with keys)."""

    propertyId = serializers.UUIDField(source="property_id", read_only=True)
    areaId = serializers.UUIDField(source="id", read_only=True)
    areaUserGroupId = serializers.UUIDField(source="area_user_group_pk", read_only=True, allow_null=True)
    accessListVersion = serializers.IntegerField(source="access_list_version", read_only=True)
    lockIds = serializers.SerializerMethodField()
    containingAreaIds = serializers.ListField(child=serializers.UUIDField(), source="ancestor_ids", read_only=True)
    subAreaIds = serializers.SerializerMethodField()
    externalRefs = AreaExternalRefsField()
    accessList = AccessListEntrySerializer(source="access_list", many=True, read_only=True)
    areaType = serializers.ChoiceField(source="area_type", choices=AreaAreaType.choices, read_only=True)
    parentAreaId = serializers.UUIDField(source="parent_id", read_only=True, allow_null=True)
    private = RequiredFirmwarePrivateField(kind="area")

    class Meta:
        model = Area
        fields = (
            "propertyId",
            "areaId",
            "areaUserGroupId",
            "accessListVersion",
            "lockIds",
            "containingAreaIds",
            "subAreaIds",
            "externalRefs",
            "display_name",
            "accessList",
            "areaType",
            "parentAreaId",
            "private",
            *EntitySerializer.BASE_FIELDS,
        )

    def links(self, obj) -> AreaLinks:
        """The area's lockIds, subAreaIds and externalRefs: a page's in one query, read by the
        first row (page_cached); one area's in one query, kept on this serializer."""
        links = page_cached(self.fields["lockIds"], "_area_links", _links)
        if links is None or obj.pk not in links:
            links = self.__dict__.get("_own_links")
            if links is None or obj.pk not in links:
                links = self.__dict__["_own_links"] = _links([obj])
        return links[obj.pk]

    def get_lockIds(self, obj) -> list[str]:
        return self.links(obj).lock_ids

    def get_subAreaIds(self, obj) -> list[str]:
        return self.links(obj).sub_area_ids


class CreateAreaSerializer(InputSerializer):
    """Spec CreateAreaInput (+ `accessList`, optional)."""

    displayName = serializers.CharField(max_length=200)
    areaType = serializers.ChoiceField(choices=AreaAreaType.choices)
    parentAreaId = serializers.UUIDField(required=False, allow_null=True)
    accessList = AccessListEntrySerializer(many=True, required=False)


class AreaWritableSerializer(InputSerializer):
    """Spec AreaWritable: `displayName`, `accessList`; `parentAreaId` (null = top level) moves the area."""

    displayName = serializers.CharField(max_length=200)
    accessList = AccessListEntrySerializer(many=True, required=False)
    parentAreaId = serializers.UUIDField(required=False, allow_null=True)
