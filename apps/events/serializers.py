"""Spec Event (+ Keyhouse extensions: source, API key, firmware, payload, processing state)."""

from rest_framework import serializers

from apps.core.api.serializers import EntitySerializer, TimestampField
from apps.events.constants import FAILING_AFTER_ATTEMPTS
from apps.events.models import Event


class EventSerializer(EntitySerializer):
    """Spec Event. Extensions: `eventSource`, `apiKeyId`, `firmwareVersion`, `payload`, and the
    processing state `processedAt`, `attempts`, `lastError`, `nextAttemptAt`, `failing`."""

    eventName = serializers.CharField(source="event_name", read_only=True)
    eventId = serializers.UUIDField(source="id", read_only=True)
    propertyId = serializers.UUIDField(source="property_id", read_only=True, allow_null=True)
    userId = serializers.UUIDField(source="user_id", read_only=True, allow_null=True)
    userDeviceId = serializers.UUIDField(source="user_device_id", read_only=True, allow_null=True)
    userGroupId = serializers.UUIDField(source="user_group_id", read_only=True, allow_null=True)
    lockId = serializers.UUIDField(source="lock_id", read_only=True, allow_null=True)
    areaId = serializers.UUIDField(source="area_id", read_only=True, allow_null=True)
    keyId = serializers.UUIDField(source="key_id", read_only=True, allow_null=True)
    eventSource = serializers.CharField(
        source="event_source", read_only=True, help_text="Extension: the part of eventName before the dot."
    )
    apiKeyId = serializers.UUIDField(source="api_key_id", read_only=True, allow_null=True)
    firmwareVersion = serializers.SerializerMethodField(help_text="Extension.")
    payload = serializers.JSONField(read_only=True, help_text="Extension: what changed (never secrets).")
    processedAt = TimestampField(
        source="processed_at", read_only=True, allow_null=True, help_text="Last successful processing; null = not yet."
    )
    attempts = serializers.IntegerField(read_only=True, help_text="Processing runs so far, successful or not.")
    lastError = serializers.SerializerMethodField(help_text="Error of the latest run; null after a success.")
    nextAttemptAt = TimestampField(
        source="next_attempt_at", read_only=True, allow_null=True, help_text="When a failed event is retried."
    )
    failing = serializers.BooleanField(
        source="is_failing",
        read_only=True,
        help_text=f"Unprocessed after {FAILING_AFTER_ATTEMPTS} attempts (still retried).",
    )

    class Meta:
        model = Event
        fields = (
            "eventName",
            "eventId",
            "propertyId",
            "userId",
            "userDeviceId",
            "userGroupId",
            "lockId",
            "areaId",
            "keyId",
            *EntitySerializer.BASE_FIELDS,
            "eventSource",
            "apiKeyId",
            "firmwareVersion",
            "payload",
            "processedAt",
            "attempts",
            "lastError",
            "nextAttemptAt",
            "failing",
        )

    def get_firmwareVersion(self, event) -> str | None:  # noqa: N802 - spec field name
        return event.firmware_version or None

    def get_lastError(self, event) -> str | None:  # noqa: N802 - spec field name
        return event.last_error or None
