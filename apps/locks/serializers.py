"""Spec Lock, NewLock, LockWritable, LockSyncInput, SignedLockSyncOutput_data, LockAccessLog
(docs/PROTOCOL.md §6 for the protocol members)."""

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers
from rest_framework.fields import empty

from apps.core.api.serializers import EntitySerializer, ExternalRefsField, InputSerializer, TimestampField
from apps.keys import canonical, crypto
from apps.keys.serializers import PartyKeySerializer, PublicKeyField
from apps.locks import selectors
from apps.locks.models import Lock, LockAccessLog, LockAccessLogGap

# PROTOCOL.md §8: what apps.locks.protocol.ack_check accepts, member for member.
ACK_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["payload", "signatures"],
    "properties": {
        "payload": {
            "type": "object",
            "additionalProperties": False,
            "required": ["lockId", "keyMapVersion", "keyMapDigest", "appliedAt"],
            "properties": {
                "lockId": {"type": "string", "format": "uuid", "description": "this lock"},
                "keyMapVersion": {"type": "integer", "minimum": 1, "maximum": canonical.MAX_SAFE_INTEGER},
                "keyMapDigest": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9_-]{43}$",
                    "description": "base64url SHA-256 of the applied map's signed payload",
                },
                "appliedAt": {"type": "integer", "minimum": 0, "maximum": canonical.MAX_SAFE_INTEGER},
            },
        },
        "signatures": {"type": "object", "additionalProperties": {"type": "string"}, "description": "{kid: sig}"},
    },
}


@extend_schema_field({**ACK_SCHEMA, "nullable": True})
class AckField(serializers.JSONField):
    """The signed acknowledgement (§8); its shape is checked by apps.locks.protocol.ack_check."""


class LockPrivateSerializer(serializers.Serializer):
    """Spec LockReadOnly_private (+ extensions: key-map versions signed / acknowledged, the
    sealing key, missing access logs). Filled from the page's prefetch (`_private`)."""

    apiKey = serializers.UUIDField(allow_null=True, help_text="Id of the lock's API secret (the secret is shown once).")
    lockKey = PartyKeySerializer(allow_null=True, help_text="The lock's Ed25519 key (it signs syncs and acks).")
    lockSealKey = PartyKeySerializer(allow_null=True, help_text="Extension: the lock's X25519 key, if registered.")
    currentKeyMapVersion = serializers.IntegerField(help_text="What the lock reported running at its last sync.")
    currentFirmwareVersion = serializers.CharField()
    lastKnownAccessDate = TimestampField(allow_null=True)
    lastKnownSyncDate = TimestampField(allow_null=True)
    requiredFirmwareVersion = serializers.CharField(allow_null=True)
    keyMapVersion = serializers.IntegerField(help_text="Extension: newest key-map version signed for the lock.")
    appliedKeyMapVersion = serializers.IntegerField(help_text="Extension: newest version the lock acknowledged.")
    keyMapPending = serializers.BooleanField(help_text="Extension: a newer map is signed than acknowledged.")
    keyMapNotAfter = TimestampField(allow_null=True, help_text="Extension: the newest map's notAfter.")
    missingAccessLogs = serializers.IntegerField(help_text="Extension: sequence numbers not delivered (gaps).")
    apiKeySecret = serializers.CharField(
        required=False, help_text="Extension: the lock's API secret, in the provisionLock answer only."
    )


@extend_schema_field(LockPrivateSerializer)
class LockPrivateField(serializers.Field):
    """`private` of a lock: computed once for a whole page (keys, credentials, firmware, gaps)."""

    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)

    @staticmethod
    def compute(locks) -> dict:
        locks = list(locks)
        ids = [lock.pk for lock in locks]
        keys = selectors.lock_keys_for(ids)
        credentials = selectors.lock_credential_ids_for(ids)
        firmware = selectors.required_firmware_versions_for_locks(locks)
        missing = selectors.lock_missing_counts(ids)
        return {
            lock.pk: {
                "apiKey": credentials.get(lock.pk),
                "lockKey": keys.get(lock.pk, {}).get("SIGN_VERIFY"),
                "lockSealKey": keys.get(lock.pk, {}).get("ENCRYPT_DECRYPT"),
                "currentKeyMapVersion": lock.reported_key_map_version,
                "currentFirmwareVersion": lock.current_firmware_version,
                "lastKnownAccessDate": lock.last_known_access_date,
                "lastKnownSyncDate": lock.last_known_sync_date,
                "requiredFirmwareVersion": firmware.get(lock.pk),
                "keyMapVersion": lock.signed_key_map_version,
                "appliedKeyMapVersion": lock.applied_key_map_version,
                "keyMapPending": lock.key_map_pending,
                "keyMapNotAfter": lock.signed_key_map_not_after,
                "missingAccessLogs": missing.get(lock.pk, 0),
            }
            for lock in locks
        }

    def to_representation(self, obj):
        page_owner = self.parent.parent if isinstance(self.parent.parent, serializers.ListSerializer) else None
        if page_owner is not None and page_owner.instance is not None:
            cache = getattr(page_owner, "_private", None)
            if cache is None:
                cache = page_owner._private = self.compute(page_owner.instance)
            values = cache[obj.pk]
        else:
            values = self.compute([obj])[obj.pk]
        secret = self.context.get("api_key_secret")
        if secret:
            values = {**values, "apiKeySecret": secret}
        return LockPrivateSerializer(values).data


class LockSerializer(EntitySerializer):
    """Spec Lock. `private` only when the context has `show_private` (the lock itself, and
    callers holding owner, provision-lock, install-lock, manage-access or support for it)."""

    lockId = serializers.UUIDField(source="id", read_only=True)
    externalRefs = ExternalRefsField()
    ownerId = serializers.UUIDField(source="owner_id", read_only=True, allow_null=True)
    propertyId = serializers.UUIDField(source="property_id", read_only=True, allow_null=True)
    areaId = serializers.UUIDField(source="area_id", read_only=True, allow_null=True)
    private = LockPrivateField(help_text="Only returned to authorized users / systems.")

    class Meta:
        model = Lock
        fields = (
            "lockId",
            "externalRefs",
            "ownerId",
            "propertyId",
            "areaId",
            "purchase_date",
            "install_date",
            "private",
            "display_name",
            *EntitySerializer.BASE_FIELDS,
        )

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("show_private"):
            data["private"] = None
        return data


class LockProvisionSerializer(InputSerializer):
    """Spec NewLock (+ the lock's own public keys, PROTOCOL.md §6.1). `lockId` is optional: a
    lock may bring its factory UUID (409 when any object already has that id); otherwise
    Keyhouse makes one."""

    @classmethod
    def request_schema(cls, schema: dict) -> dict:
        """`areaId` (install right away) needs its `propertyId`."""
        no_area = {"properties": {"areaId": {"type": "string", "nullable": True, "enum": [None]}}}
        with_property = {"required": ["propertyId"], "properties": {"propertyId": {"type": "string", "format": "uuid"}}}
        return {**schema, "anyOf": [no_area, with_property]}

    lockId = serializers.UUIDField(required=False)
    displayName = serializers.CharField(max_length=200)
    propertyId = serializers.UUIDField(required=False, allow_null=True)
    areaId = serializers.UUIDField(required=False, allow_null=True, help_text="Install right away (same property).")
    ownerId = serializers.UUIDField(required=False, allow_null=True)
    purchaseDate = TimestampField(required=False, allow_null=True)
    externalRefs = serializers.ListField(
        child=serializers.DictField(), required=False, max_length=0, help_text="Set by integrations; send [] or omit."
    )
    lockKey = PublicKeyField(crypto.ED25519, help_text="Extension: the lock's Ed25519 public key (lockKey).")
    lockSealKey = PublicKeyField(
        crypto.X25519, required=False, help_text="Extension: the lock's X25519 public key (optional)."
    )


class LockWritableSerializer(InputSerializer):
    """Spec LockWritable: the name."""

    displayName = serializers.CharField(max_length=200)


class LockEmptyInputSerializer(InputSerializer):
    """Spec LockInstallInput / LockUninstallInput: no members (the spec lists none); `{}` or no body."""

    def __init__(self, instance=None, data=empty, **kwargs):
        # no body at all is `{}`; a JSON `null` (or any non-object) is a body, and not an object: a 400
        super().__init__(instance, {} if data is empty or (isinstance(data, str) and data == "") else data, **kwargs)


class LockSyncSerializer(InputSerializer):
    """Spec LockSyncInput (+ the members of PROTOCOL.md §6.4). Every member but `signatures` is
    signed by the lock's lockKey exactly as received."""

    lockId = serializers.UUIDField(help_text="Extension: binds the signature to this lock.")
    syncSequence = serializers.IntegerField(
        min_value=1, max_value=canonical.MAX_SAFE_INTEGER, help_text="Extension: strictly increasing per lock."
    )
    syncDate = TimestampField(help_text="The lock's clock; within KEYHOUSE_LOCK_CLOCK_SKEW_SECONDS of server time.")
    currentKeyMapVersion = serializers.IntegerField(min_value=0, max_value=canonical.MAX_SAFE_INTEGER)
    currentFirmwareVersion = serializers.CharField(max_length=64, allow_blank=True, trim_whitespace=False)
    encryptedAccessLogs = serializers.CharField(
        allow_null=True, allow_blank=True, trim_whitespace=False, help_text="Sealed to the property (§6.5), or null."
    )
    accessLogsKid = serializers.CharField(
        required=False, allow_null=True, max_length=22, help_text="Extension: kid of the X25519 key sealed to."
    )
    ack = AckField(required=False, allow_null=True, help_text="Extension: signed ack (§8), or null.")
    batteryLevel = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=100,
        help_text="Extension (protocol 1.1, §6.4.1): battery percent now; omitted or null: unknown.",
    )
    doorState = serializers.ChoiceField(
        choices=["open", "closed", "unknown"],
        required=False,
        allow_null=True,
        help_text="Extension (protocol 1.1, §6.4.1): the door's state now; omitted or null: unknown.",
    )
    nonce = serializers.CharField(max_length=100, help_text="Extension: echoed in the signed answer.")
    signatures = serializers.DictField(child=serializers.CharField(), help_text="{kid: signature} by lockKey.")

    _JSON_TYPES = {
        "lockId": str,
        "syncSequence": int,
        "syncDate": str,
        "currentKeyMapVersion": int,
        "currentFirmwareVersion": str,
        "nonce": str,
    }

    def validate(self, attrs):
        errors = {}
        for name, kind in self._JSON_TYPES.items():
            value = self.initial_data.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                errors[name] = [f"Must be a JSON {'integer' if kind is int else 'string'}."]
        battery = self.initial_data.get("batteryLevel")
        if battery is not None and (not isinstance(battery, int) or isinstance(battery, bool)):
            errors["batteryLevel"] = ["Must be a JSON integer or null."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class AccessLogSummarySerializer(serializers.Serializer):
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    highestSequence = serializers.IntegerField()
    missing = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


@extend_schema_serializer(component_name="SignedLockSyncOutput_data")
class LockSyncOutputSerializer(serializers.Serializer):
    """Spec SignedLockSyncOutput_data (+ extensions); the envelope adds `signatures` and `keyMap`."""

    lockId = serializers.UUIDField()
    nonce = serializers.CharField(help_text="The lock's nonce, echoed.")
    syncSequence = serializers.IntegerField()
    serverTime = serializers.IntegerField(help_text="Signed server time, Unix seconds.")
    accepted = serializers.BooleanField()
    keyMapVersion = serializers.IntegerField()
    keyMapDigest = serializers.CharField(allow_null=True, help_text="keyMapDigest of the attached key map.")
    encryptedKeyMapEntries = serializers.CharField(allow_null=True, help_text="Always null: see `keyMap`.")
    requiredFirmwareVersion = serializers.CharField(allow_null=True)
    acknowledgedKeyMapVersion = serializers.IntegerField()
    accessLogs = AccessLogSummarySerializer()


class _BlankAsNullCharField(serializers.CharField):
    """A string the model stores as "" when absent, answered as null (as the schema says)."""

    def to_representation(self, value):
        return value or None


class LockAccessLogSerializer(EntitySerializer):
    """Spec LockAccessLog (+ `sequence`, `result`, `reason`, `kid`, `keyMapVersion`, `receivedAt`)."""

    lockAccessLogId = serializers.UUIDField(source="id", read_only=True)
    deviceSignatureFailure = serializers.BooleanField(source="device_signature_failure", read_only=True)
    lockId = serializers.UUIDField(source="lock_id", read_only=True)
    accessKeyId = serializers.UUIDField(source="access_key_id", read_only=True, allow_null=True)
    accessDate = TimestampField(source="access_date", read_only=True)
    userId = serializers.UUIDField(source="user_id", read_only=True, allow_null=True)
    userDeviceId = serializers.UUIDField(source="user_device_id", read_only=True, allow_null=True)
    deviceSignature = _BlankAsNullCharField(
        source="device_signature",
        read_only=True,
        allow_null=True,
        help_text="The failed signature of a `bad-signature` denial (PROTOCOL.md §6.5); null on every other log.",
    )
    propertyId = serializers.UUIDField(source="property_id", read_only=True, allow_null=True)
    areaId = serializers.UUIDField(source="area_id", read_only=True, allow_null=True)
    userGroupId = serializers.UUIDField(source="user_group_id", read_only=True, allow_null=True)
    receivedAt = TimestampField(source="created_at", read_only=True)

    class Meta:
        model = LockAccessLog
        fields = (
            "lockAccessLogId",
            "deviceSignatureFailure",
            "lockId",
            "accessKeyId",
            "accessDate",
            "userId",
            "userDeviceId",
            "deviceSignature",
            "propertyId",
            "areaId",
            "userGroupId",
            "sequence",
            "result",
            "reason",
            "kid",
            "key_map_version",
            "receivedAt",
            *EntitySerializer.BASE_FIELDS,
        )


class LockAccessLogGapSerializer(serializers.ModelSerializer):
    """Extension: sequence numbers [fromSequence, toSequence] the lock has not delivered."""

    fromSequence = serializers.IntegerField(source="first_sequence")
    toSequence = serializers.IntegerField(source="last_sequence")
    missing = serializers.IntegerField()
    detectedAt = TimestampField(source="detected_at")

    class Meta:
        model = LockAccessLogGap
        fields = ("fromSequence", "toSequence", "missing", "detectedAt")


class AckLockSerializer(serializers.Serializer):
    lockId = serializers.UUIDField()
    displayName = serializers.CharField()
    propertyId = serializers.UUIDField(allow_null=True)
    areaId = serializers.UUIDField(allow_null=True)
    requiredKeyMapVersion = serializers.IntegerField(help_text="First version that carries the change.")
    appliedKeyMapVersion = serializers.IntegerField()
    appliedAt = TimestampField(allow_null=True)
    lastKnownSyncDate = TimestampField(allow_null=True)
    keyMapNotAfter = TimestampField(allow_null=True)


@extend_schema_serializer(component_name="EventAcknowledgements")
class EventAcknowledgementsSerializer(serializers.Serializer):
    """Extension: on which locks a change (event) is acknowledged, and which are pending."""

    eventId = serializers.UUIDField()
    eventName = serializers.CharField()
    tracked = serializers.BooleanField(help_text="False when the event does not touch key maps.")
    keyMapsBuilt = serializers.BooleanField(help_text="False while the worker has not built the maps yet.")
    propertyIds = serializers.ListField(child=serializers.UUIDField())
    locks = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    pending = serializers.IntegerField()
    acknowledgedLocks = AckLockSerializer(many=True)
    pendingLocks = AckLockSerializer(many=True)


class LockHealthSerializer(serializers.Serializer):
    """A lock's health from whatever reports it (docs/INTEGRATIONS.md "Lock health")."""

    lockId = serializers.UUIDField(source="lock_id", read_only=True)
    displayName = serializers.CharField(source="lock.display_name", read_only=True, help_text="The lock's name.")
    source = serializers.CharField(
        read_only=True, allow_null=True, help_text="parqex, lockt or keyhouse; null = never reported."
    )
    doorState = serializers.ChoiceField(source="door_state", choices=["open", "closed", "unknown"], read_only=True)
    batteryLevel = serializers.IntegerField(
        source="battery_level", read_only=True, allow_null=True, help_text="Percent; null = unknown."
    )
    batteryLow = serializers.BooleanField(source="battery_low", read_only=True)
    lastContactAt = TimestampField(source="last_contact_at", read_only=True, allow_null=True)
    online = serializers.BooleanField(read_only=True)
    heldOpen = serializers.BooleanField(source="held_open", read_only=True)
    stale = serializers.BooleanField(read_only=True, help_text="Its integration is failing (not the same as offline).")
    updatedAt = TimestampField(source="updated_at", read_only=True, allow_null=True)


class _KeyRefSerializer(serializers.Serializer):
    kid = serializers.CharField()
    publicKey = serializers.CharField(help_text="base64url raw public key")


class LockCommandSerializer(serializers.Serializer):
    """Extension `lockCommand` (PROTOCOL.md §6.2): what the lock applies; signed with `data`."""

    command = serializers.ChoiceField(choices=["provision", "install", "uninstall", "state"])
    lockId = serializers.UUIDField()
    lockKid = serializers.CharField(allow_null=True)
    propertyId = serializers.UUIDField(allow_null=True)
    areaId = serializers.UUIDField(allow_null=True)
    sequence = serializers.IntegerField(min_value=0)
    issuedAt = serializers.IntegerField(help_text="integer Unix seconds")
    notAfter = serializers.IntegerField(help_text="integer Unix seconds")
    propertyKeys = _KeyRefSerializer(many=True)
    propertySealKey = _KeyRefSerializer(allow_null=True)
    uninstallMode = serializers.ChoiceField(choices=["area", "property", "owner"], allow_null=True)


@extend_schema_serializer(component_name="SignedLock")
class SignedLockSerializer(LockSerializer):
    """Schema only: the `data` of SignedLockOutput, the spec Lock plus the signed `lockCommand`."""

    lockCommand = LockCommandSerializer(read_only=True)

    class Meta(LockSerializer.Meta):
        fields = (*LockSerializer.Meta.fields, "lockCommand")
