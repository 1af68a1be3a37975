"""Keyhouse extension: integration accounts and their sync runs (docs/INTEGRATIONS.md).

Credentials are write-only: requests carry them, no answer ever does (not even the one that
created the account); answers name the fields that are set (`credentialFields`)."""

from rest_framework import serializers

from apps.core.api.serializers import EntitySerializer, InputSerializer, TimestampField
from apps.integrations import registry
from apps.integrations.choices import IntegrationAccountKind, IntegrationAccountStatus, SyncRunStatus
from apps.integrations.constants import CREDENTIAL_MAX_LENGTH, POLL_INTERVAL_MAX, POLL_INTERVAL_MIN
from apps.integrations.models import IntegrationAccount, SmartphoneKeyPush, SmartphoneKeyPushState, SyncRun
from apps.properties.serializers import TIME_ZONES

CREDENTIALS_HELP = (
    "Write-only. The remote system's credentials, exactly these members per kind: "
    "lockt: `apiuser`, `apikey`; smartphonekey: `api_key`; parqex: `token`. "
    "Each a non-empty single-line string of at most "
    f"{CREDENTIAL_MAX_LENGTH} characters. Stored encrypted; never returned."
)


class SyncRunSerializer(serializers.ModelSerializer):
    """One poll of an account: when, how it ended, and its counts (current while it runs)."""

    syncRunId = serializers.UUIDField(source="id", read_only=True)
    accountId = serializers.UUIDField(source="account_id", read_only=True)
    status = serializers.ChoiceField(choices=SyncRunStatus.choices, read_only=True)
    trigger = serializers.CharField(read_only=True, help_text="`schedule`, or who pressed Poll now.")
    startedAt = TimestampField(source="started_at", read_only=True)
    finishedAt = TimestampField(source="finished_at", read_only=True, allow_null=True)
    error = serializers.CharField(read_only=True, help_text="Why it failed; empty on success.")

    class Meta:
        model = SyncRun
        fields = (
            "syncRunId",
            "accountId",
            "status",
            "trigger",
            "startedAt",
            "finishedAt",
            "fetched",
            "created",
            "updated",
            "unchanged",
            "failed",
            "error",
        )
        read_only_fields = fields


class IntegrationAccountSerializer(EntitySerializer):
    """An integration account: where it points, how it is doing, its last run; never its credentials."""

    accountId = serializers.UUIDField(source="id", read_only=True)
    propertyId = serializers.UUIDField(source="property_id", read_only=True)
    kind = serializers.ChoiceField(choices=IntegrationAccountKind.choices, read_only=True)
    status = serializers.ChoiceField(
        choices=IntegrationAccountStatus.choices,
        read_only=True,
        help_text="ok; backing_off (failed, retried at nextAttemptAt); needs_reauth (credentials refused, "
        "not polled until they change or Poll now); disabled (never polled).",
    )
    enabled = serializers.SerializerMethodField()
    credentialFields = serializers.SerializerMethodField()
    lastRun = serializers.SerializerMethodField()

    class Meta:
        model = IntegrationAccount
        fields = (
            "accountId",
            "propertyId",
            "kind",
            "display_name",
            "base_url",
            "poll_interval_seconds",
            "time_zone",
            "status",
            "enabled",
            "last_attempt_at",
            "last_success_at",
            "last_error",
            "next_attempt_at",
            "consecutive_failures",
            "credentialFields",
            "lastRun",
            *EntitySerializer.BASE_FIELDS,
        )
        read_only_fields = fields

    def get_enabled(self, obj) -> bool:
        return obj.status != IntegrationAccountStatus.DISABLED

    def get_credentialFields(self, obj) -> list[str]:
        """The names of the stored credentials (their values are never shown)."""
        vendor = registry.vendor_get(obj.kind)
        return list(vendor.credential_fields) if vendor else []

    def get_lastRun(self, obj) -> SyncRunSerializer(allow_null=True):  # type: ignore[valid-type]
        runs = getattr(obj, "latest_runs", None)
        if runs is None:
            runs = list(obj.sync_runs.order_by("-started_at")[:1])
        return SyncRunSerializer(runs[0]).data if runs else None


TZ_HELP = "IANA time zone of the remote's times that carry no zone (ParqEx's last_contact, last_toggled). Default UTC."


def _credentials_schema(kind: str) -> dict:
    """A kind's credentials object as apps.integrations.services.accounts._checked_credentials accepts it."""
    from apps.integrations.registry import vendor_get

    value = {"type": "string", "minLength": 1, "maxLength": CREDENTIAL_MAX_LENGTH, "pattern": r"^[^\r\n]*\S[^\r\n]*$"}
    fields = vendor_get(kind).credential_fields
    return {
        "type": "object",
        "additionalProperties": False,
        "required": list(fields),
        "properties": dict.fromkeys(fields, value),
    }


def _kinds() -> list[str]:
    from apps.integrations.registry import vendor_kinds

    return sorted(vendor_kinds())


class IntegrationAccountCreateSerializer(InputSerializer):
    @classmethod
    def request_schema(cls, schema: dict) -> dict:
        """One variant per kind: `credentials` holds exactly that vendor's members."""
        variants = [
            {"properties": {"kind": {"type": "string", "enum": [kind]}, "credentials": _credentials_schema(kind)}}
            for kind in _kinds()
        ]
        return {**schema, "oneOf": variants}

    propertyId = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=IntegrationAccountKind.choices)
    displayName = serializers.CharField(max_length=200)
    baseUrl = serializers.URLField(
        max_length=500,
        required=False,
        help_text="Default: the vendor's cloud (lockt: https://cloudapi.lockt.com/api/v1). https only, "
        "unless the server allows http for local emulators.",
    )
    credentials = serializers.DictField(
        child=serializers.CharField(max_length=CREDENTIAL_MAX_LENGTH, trim_whitespace=False),
        write_only=True,
        help_text=CREDENTIALS_HELP,
    )
    pollIntervalSeconds = serializers.IntegerField(
        min_value=POLL_INTERVAL_MIN, max_value=POLL_INTERVAL_MAX, required=False, help_text="Default 300."
    )
    timeZone = serializers.ChoiceField(choices=TIME_ZONES, required=False, help_text=TZ_HELP)


class IntegrationAccountUpdateSerializer(InputSerializer):
    """Only the given members change. New credentials end `needs_reauth` and poll at once."""

    @classmethod
    def request_schema(cls, schema: dict) -> dict:
        """`credentials`: the members of the account's kind (one of these shapes)."""
        properties = {**schema["properties"]}
        properties["credentials"] = {
            **{k: v for k, v in properties["credentials"].items() if k not in ("type", "additionalProperties")},
            "oneOf": [_credentials_schema(kind) for kind in _kinds()],
        }
        return {**schema, "properties": properties}

    displayName = serializers.CharField(max_length=200, required=False)
    baseUrl = serializers.URLField(max_length=500, required=False)
    credentials = serializers.DictField(
        child=serializers.CharField(max_length=CREDENTIAL_MAX_LENGTH, trim_whitespace=False),
        write_only=True,
        required=False,
        help_text=CREDENTIALS_HELP,
    )
    pollIntervalSeconds = serializers.IntegerField(
        min_value=POLL_INTERVAL_MIN, max_value=POLL_INTERVAL_MAX, required=False
    )
    timeZone = serializers.ChoiceField(choices=TIME_ZONES, required=False, help_text=TZ_HELP)
    enabled = serializers.BooleanField(required=False, help_text="false: never polled (status disabled).")


class SmartphoneKeyPushSerializer(serializers.ModelSerializer):
    """One native grant × one SmartphoneKey account: pending, pushed (remote version) or failed (reason)."""

    pushId = serializers.UUIDField(source="id", read_only=True)
    accountId = serializers.UUIDField(source="account_id", read_only=True)
    grantId = serializers.UUIDField(source="grant_id", read_only=True)
    userId = serializers.UUIDField(source="grant.user_id", read_only=True)
    lockId = serializers.UUIDField(source="grant.lock_id", read_only=True)
    state = serializers.ChoiceField(choices=SmartphoneKeyPushState.choices, read_only=True)
    remoteVersion = serializers.FloatField(
        source="remote_version", read_only=True, allow_null=True, help_text="The remote's `version` after the push."
    )
    reason = serializers.CharField(read_only=True, help_text="Why it failed; empty otherwise.")
    queuedAt = TimestampField(source="queued_at", read_only=True)
    pushedAt = TimestampField(source="pushed_at", read_only=True, allow_null=True)

    class Meta:
        model = SmartphoneKeyPush
        fields = (
            "pushId",
            "accountId",
            "grantId",
            "userId",
            "lockId",
            "state",
            "remoteVersion",
            "reason",
            "queuedAt",
            "pushedAt",
        )
