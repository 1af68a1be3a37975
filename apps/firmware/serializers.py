"""Spec FirmwareVersion / FirmwareVersionScope, the upload and scope inputs, and the
`private.requiredFirmwareVersion` field that properties and areas show."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import EntitySerializer, InputSerializer, page_cached
from apps.firmware import selectors, signing
from apps.firmware.choices import FirmwareAssignmentScope, FirmwareVersionDeviceType
from apps.firmware.models import FirmwareAssignment, FirmwareVersion


class FirmwareVersionScopeSerializer(serializers.Serializer):
    """Spec FirmwareVersionScope: the ids that do not apply to the scope are null."""

    scope = serializers.ChoiceField(choices=FirmwareAssignmentScope.choices)
    lockId = serializers.UUIDField(source="lock_id", allow_null=True)
    propertyId = serializers.UUIDField(source="property_id", allow_null=True)
    areaId = serializers.UUIDField(source="area_id", allow_null=True)

    def to_representation(self, instance: FirmwareAssignment):
        data = super().to_representation(instance)
        if instance.scope == FirmwareAssignmentScope.LOCK:
            data["propertyId"] = None  # a lock's assignment follows the lock, not its property
        return data


class FirmwareManifestSerializer(serializers.Serializer):
    """Extension: the signed manifest (docs/FIRMWARE.md). The signature covers the canonical
    JSON of {version, sha256, size}."""

    version = serializers.CharField()
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    algorithm = serializers.CharField()
    keyId = serializers.CharField()
    signature = serializers.CharField(help_text="Base64 Ed25519 signature of the canonical manifest bytes.")


class FirmwareVersionSerializer(EntitySerializer):
    """Spec FirmwareVersion (+ `sha256`, `size`, `manifest`). `scopes` come from the view
    (context "scopes"), already narrowed to what the caller may see."""

    firmwareVersion = serializers.CharField(source="version", read_only=True)
    deviceType = serializers.ChoiceField(
        source="device_type", choices=FirmwareVersionDeviceType.choices, read_only=True
    )
    s3Bucket = serializers.SerializerMethodField()
    s3Key = serializers.SerializerMethodField()
    scopes = serializers.SerializerMethodField()
    sha256 = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    manifest = serializers.SerializerMethodField()

    class Meta:
        model = FirmwareVersion
        fields = (
            "firmwareVersion",
            "deviceType",
            "s3Bucket",
            "s3Key",
            "scopes",
            "sha256",
            "size",
            "manifest",
            *EntitySerializer.BASE_FIELDS,
        )

    def get_s3Bucket(self, obj) -> str | None:
        return obj.s3_bucket or None

    def get_s3Key(self, obj) -> str | None:
        return obj.s3_key or None

    @extend_schema_field(FirmwareVersionScopeSerializer(many=True))
    def get_scopes(self, obj):
        scopes = self.context.get("scopes")
        if scopes is None:
            scopes = selectors.firmware_scope_list(firmware_version=obj)
        return FirmwareVersionScopeSerializer(scopes, many=True).data

    @extend_schema_field(FirmwareManifestSerializer)
    def get_manifest(self, obj):
        return {
            "version": obj.version,
            "sha256": obj.sha256,
            "size": obj.size,
            "algorithm": signing.ALGORITHM,
            "keyId": obj.signing_key_id,
            "signature": obj.manifest_signature,
        }


class FirmwareUploadSerializer(InputSerializer):
    """uploadFirmwareVersion form: the image in the multipart part `firmware`."""

    firmware = serializers.FileField(allow_empty_file=False, use_url=False)


_NEEDS = {"lock": "lockId", "area": "areaId", "property": "propertyId", "global": None}
_ALSO_ALLOWED = {"area": {"propertyId"}}  # the area's own property may be named too


class FirmwareScopeQuerySerializer(InputSerializer):
    """assign/unassign query: `scope` and exactly the id it needs (spec FirmwareVersionScope)."""

    scope = serializers.ChoiceField(choices=FirmwareAssignmentScope.choices)
    lockId = serializers.UUIDField(required=False)
    propertyId = serializers.UUIDField(required=False)
    areaId = serializers.UUIDField(required=False)

    def validate(self, attrs):
        scope = attrs["scope"]
        needed = _NEEDS[scope]
        errors = {}
        if needed and needed not in attrs:
            errors[needed] = [f"Required when scope is {scope}."]
        for name in ("lockId", "propertyId", "areaId"):
            if name in attrs and name != needed and name not in _ALSO_ALLOWED.get(scope, ()):
                errors[name] = [f"Not allowed when scope is {scope}."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class RequiredFirmwarePrivateSerializer(serializers.Serializer):
    requiredFirmwareVersion = serializers.CharField(
        allow_null=True, help_text="The firmware version locks here must run (docs/FIRMWARE.md precedence)."
    )


@extend_schema_field(RequiredFirmwarePrivateSerializer)
class RequiredFirmwarePrivateField(serializers.Field):
    """`private` of a property or an area: `{"requiredFirmwareVersion": ...}`.

    Serializing a page (`many=True`), the first row computes the whole page in one query
    and keeps it on the list serializer, so a list costs one query whatever its size.
    """

    def __init__(self, *, kind: str, **kwargs):
        assert kind in ("property", "area")
        self.kind = kind
        super().__init__(source="*", read_only=True, **kwargs)

    def _compute(self, objs) -> dict:
        if self.kind == "area":
            return selectors.required_firmware_versions_for_areas(objs)
        return selectors.required_firmware_versions_for_properties([obj.pk for obj in objs])

    def to_representation(self, obj):
        versions = page_cached(self, "_required_firmware", self._compute)
        if versions is None:
            versions = self._compute([obj])
        return {"requiredFirmwareVersion": versions.get(obj.pk)}
