"""Spec UserDevice, ProvisionUserDeviceInput, UserDeviceWritable, SignedUserDeviceSyncInput,
UserDeviceSyncOutput (docs/PROTOCOL.md §7 for the protocol fields)."""

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.core.api.serializers import EntitySerializer, ExternalRefsField, InputSerializer, TimestampField
from apps.devices.choices import UserDeviceDeviceType
from apps.devices.models import UserDevice
from apps.keys import canonical, crypto
from apps.keys.serializers import PartyKeySerializer, PublicKeyField


class UserDevicePrivateSerializer(serializers.Serializer):
    """Spec UserDeviceReadOnly_private (+ `deviceSyncEncryptionKey`, `lastSyncCounter`)."""

    deviceAccessKey = PartyKeySerializer(source="access_key")
    deviceSyncKey = PartyKeySerializer(source="sync_key")
    deviceSyncEncryptionKey = PartyKeySerializer(
        source="seal_key", help_text="Extension: the X25519 half of deviceSyncKey; access maps are sealed to it."
    )
    currentUserAccessMapVersion = serializers.CharField(
        source="current_user_access_map_version", help_text="The version the phone reported at its last sync."
    )
    userAccessMapVersion = serializers.SerializerMethodField(
        help_text="Extension: the device's current map version on the server ('' before the first sync)."
    )
    currentOsVersion = serializers.CharField(source="current_os_version")
    currentAppVersion = serializers.CharField(source="current_app_version")
    lastKnownSyncDate = TimestampField(source="last_known_sync_date", allow_null=True)
    lastSyncCounter = serializers.IntegerField(source="last_sync_counter")

    def get_userAccessMapVersion(self, device) -> str:
        return str(device.map_version) if device.map_version else ""


class UserDeviceSerializer(EntitySerializer):
    """Spec UserDevice. `private` appears only when the context has `show_private`."""

    userId = serializers.UUIDField(source="user_id", read_only=True)
    userDeviceId = serializers.UUIDField(source="id", read_only=True)
    externalRefs = ExternalRefsField()
    private = UserDevicePrivateSerializer(source="*", read_only=True, required=False)

    class Meta:
        model = UserDevice
        fields = (
            "userId",
            "userDeviceId",
            "externalRefs",
            "private",
            "device_type",
            "make_model",
            "display_name",
            *EntitySerializer.BASE_FIELDS,
        )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("show_private"):
            data.pop("private", None)
        return data


class UserDeviceListSerializer(serializers.Serializer):
    """Spec UserDeviceListOutput_data: every device, unpaged."""

    devices = UserDeviceSerializer(many=True)


class ProvisionUserDeviceSerializer(InputSerializer):
    """Spec ProvisionUserDeviceInput + the phone's public keys (PROTOCOL.md §7.2)."""

    deviceType = serializers.ChoiceField(choices=UserDeviceDeviceType.choices)
    makeModel = serializers.CharField(max_length=200)
    displayName = serializers.CharField(max_length=200)
    deviceAccessPublicKey = PublicKeyField(crypto.ED25519, help_text="Extension: deviceAccessKey, Ed25519.")
    deviceSyncPublicKey = PublicKeyField(crypto.ED25519, help_text="Extension: deviceSyncKey, Ed25519.")
    deviceSyncEncryptionPublicKey = PublicKeyField(crypto.X25519, help_text="Extension: deviceSyncKey, X25519.")


class UserDeviceWritableSerializer(InputSerializer):
    """Spec UserDeviceWritable: the name. OS and app versions arrive signed, through sync."""

    displayName = serializers.CharField(max_length=200)


class SignedUserDeviceSyncSerializer(InputSerializer):
    """Spec SignedUserDeviceSyncInput (+ `userId`, `userDeviceId`, `syncCounter`): every member
    except `deviceSignature` is signed, as received (PROTOCOL.md §7.3)."""

    userId = serializers.UUIDField(help_text="Extension: binds the signature to this person.")
    userDeviceId = serializers.UUIDField(help_text="Extension: binds the signature to this device.")
    syncDate = TimestampField(help_text="The phone's clock; within KEYHOUSE_DEVICE_SYNC_MAX_SKEW_SECONDS.")
    syncCounter = serializers.IntegerField(
        min_value=1,
        max_value=canonical.MAX_SAFE_INTEGER,
        help_text="Extension: strictly increasing per device (replay guard).",
    )
    deviceType = serializers.ChoiceField(choices=UserDeviceDeviceType.choices)
    makeModel = serializers.CharField(max_length=200, trim_whitespace=False)
    currentOsVersion = serializers.CharField(max_length=64, allow_blank=True, trim_whitespace=False)
    currentAppVersion = serializers.CharField(max_length=64, allow_blank=True, trim_whitespace=False)
    currentUserAccessMapVersion = serializers.CharField(max_length=32, allow_blank=True, trim_whitespace=False)
    deviceSignature = serializers.CharField(
        max_length=128, help_text="base64url Ed25519 signature by deviceSyncKey (PROTOCOL.md §7.3)."
    )

    def validate(self, attrs):
        raw = self.initial_data
        errors = {}
        for name in ("userId", "userDeviceId", "syncDate", *self._strings):
            if not isinstance(raw.get(name), str):
                errors[name] = ["Must be a JSON string."]
        if not isinstance(raw.get("syncCounter"), int) or isinstance(raw.get("syncCounter"), bool):
            errors["syncCounter"] = ["Must be a JSON integer."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs

    _strings = (
        "deviceType",
        "makeModel",
        "currentOsVersion",
        "currentAppVersion",
        "currentUserAccessMapVersion",
        "deviceSignature",
    )


@extend_schema_serializer(component_name="UserDeviceSyncOutput_data")
class UserDeviceSyncOutputSerializer(serializers.Serializer):
    """Spec UserDeviceSyncOutput_data (+ extensions); the envelope adds `signatures`."""

    userId = serializers.UUIDField()
    userDeviceId = serializers.UUIDField()
    syncCounter = serializers.IntegerField(help_text="Extension: the counter this answers.")
    serverTime = serializers.CharField(help_text="Extension: signed server time.")
    userAccessMapVersion = serializers.CharField()
    notAfter = serializers.CharField(help_text="Extension: the device's map version is valid until then.")
    encryptedUserAccessMapEntries = serializers.ListField(
        child=serializers.CharField(),
        allow_null=True,
        help_text="Sealed map (one base64url blob), or null when the device already has this version.",
    )
