"""Keyhouse extension: integration accounts and their sync runs (docs/INTEGRATIONS.md).

Credentials are write-only: requests carry them, no answer ever does (not even the one that
created the account); answers name the fields that are set (`credentialFields`)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import EntitySerializer, InputSerializer, TimestampField
from apps.core.choices import ExternalRefSyncDirection
from apps.integrations import registry
from apps.integrations.choices import IntegrationAccountKind, IntegrationAccountStatus, SyncRunStatus
from apps.integrations.constants import CREDENTIAL_MAX_LENGTH, POLL_INTERVAL_MAX, POLL_INTERVAL_MIN
from apps.integrations.models import (
    IntegrationAccount,
    LocktCredential,
    LocktCredentialClaim,
    LocktMark,
    LocktMarkState,
    LocktRecord,
    LocktRecordKind,
    LocktRecordStatus,
    SmartphoneKeyPush,
    SmartphoneKeyPushState,
    SyncRun,
)
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


class LocktCredentialSerializer(serializers.ModelSerializer):
    """A Lockt credential or fob, read-only, on its holder. The card number is never returned:
    only its last 4 digits."""

    holderId = serializers.UUIDField(source="holder_id", read_only=True, allow_null=True)
    holderExternalId = serializers.IntegerField(
        source="holder_external_id", read_only=True, allow_null=True, help_text="The holder's Lockt user id."
    )
    name = serializers.CharField(read_only=True, help_text="Masked (`••••1234`) when it is the card number.")
    cardLast4 = serializers.CharField(source="card_last4", read_only=True, help_text="Empty when it has no card.")
    claimStatus = serializers.ChoiceField(
        source="claim_status", choices=LocktCredentialClaim.choices, read_only=True, help_text="Empty: not stated."
    )
    fob = serializers.BooleanField(read_only=True)
    validFrom = TimestampField(source="valid_from", read_only=True, allow_null=True)
    validUntil = TimestampField(source="valid_until", read_only=True, allow_null=True)
    reassignPending = serializers.BooleanField(
        source="reassign_pending", read_only=True, help_text="Reassigned in Keyhouse; not yet pushed to Lockt."
    )

    class Meta:
        model = LocktCredential
        fields = (
            "holderId",
            "holderExternalId",
            "name",
            "cardLast4",
            "claimStatus",
            "fob",
            "validFrom",
            "validUntil",
            "reassignPending",
        )


class LocktRecordSerializer(serializers.ModelSerializer):
    """One Lockt record as the account's last poll saw it: the Keyhouse object it is linked to
    and who owns it, or why it could not be applied."""

    recordId = serializers.UUIDField(source="id", read_only=True)
    accountId = serializers.UUIDField(source="account_id", read_only=True)
    kind = serializers.ChoiceField(choices=LocktRecordKind.choices, read_only=True)
    externalId = serializers.CharField(source="external_id", read_only=True, help_text="Its id in Lockt.")
    label = serializers.CharField(read_only=True, help_text="Its name as Lockt shows it (card numbers masked).")
    status = serializers.ChoiceField(choices=LocktRecordStatus.choices, read_only=True)
    objectId = serializers.UUIDField(
        source="linked_object_id",
        read_only=True,
        allow_null=True,
        help_text="The linked Keyhouse object (person, group, lock, schedule); null when not linked.",
    )
    owner = serializers.SerializerMethodField(help_text="`lockt` or `keyhouse`; null when not linked.")
    errorField = serializers.CharField(source="error_field", read_only=True, help_text="Empty unless failed.")
    errorValue = serializers.CharField(
        source="error_value", read_only=True, help_text="Empty unless failed; card numbers and PINs hidden."
    )
    errorReason = serializers.CharField(source="error_reason", read_only=True, help_text="Empty unless failed.")
    credential = serializers.SerializerMethodField(
        help_text="Credentials and fobs (kind `credential`, `fob`): the record; null for other kinds."
    )
    updatedAt = TimestampField(source="updated_at", read_only=True)

    class Meta:
        model = LocktRecord
        fields = (
            "recordId",
            "accountId",
            "kind",
            "externalId",
            "label",
            "status",
            "objectId",
            "owner",
            "errorField",
            "errorValue",
            "errorReason",
            "credential",
            "updatedAt",
        )

    @extend_schema_field({"type": "string", "enum": ["lockt", "keyhouse"], "nullable": True})
    def get_owner(self, obj):
        direction = getattr(obj, "link_direction", None)
        if obj.kind in (LocktRecordKind.CREDENTIAL, LocktRecordKind.FOB):
            return "lockt" if hasattr(obj, "credential") else None
        if not direction:
            return None
        return "keyhouse" if direction == ExternalRefSyncDirection.FROM_INTERNAL_TO_EXTERNAL else "lockt"

    @extend_schema_field(LocktCredentialSerializer(allow_null=True))
    def get_credential(self, obj):
        credential = getattr(obj, "credential", None)
        return LocktCredentialSerializer(credential).data if credential is not None else None


class LocktFobReassignSerializer(InputSerializer):
    holderId = serializers.UUIDField(
        allow_null=True,
        help_text="The new holder: a person linked to a Lockt user of this account; null = nobody.",
    )


class LocktMarkSerializer(serializers.ModelSerializer):
    """A Keyhouse group or lock marked for a Lockt account: pending, pushed (its Lockt id),
    failed (the reason, e.g. the schedule Lockt lacks) or removing (unmarked; Lockt's copy
    is deleted at the next poll)."""

    markId = serializers.UUIDField(source="id", read_only=True)
    accountId = serializers.UUIDField(source="account_id", read_only=True)
    kind = serializers.CharField(read_only=True, help_text="`group` (a Lockt access level) or `lock` (a Lockt door).")
    groupId = serializers.UUIDField(source="group_id", read_only=True, allow_null=True)
    lockId = serializers.UUIDField(source="lock_id", read_only=True, allow_null=True)
    name = serializers.SerializerMethodField(help_text="The group's or lock's name.")
    state = serializers.ChoiceField(choices=LocktMarkState.choices, read_only=True)
    externalId = serializers.CharField(
        source="external_id", read_only=True, help_text="Its Lockt id once pushed; empty before."
    )
    reason = serializers.CharField(read_only=True, help_text="Why the last push failed; empty otherwise.")
    markedAt = TimestampField(source="marked_at", read_only=True)
    pushedAt = TimestampField(source="pushed_at", read_only=True, allow_null=True)

    class Meta:
        model = LocktMark
        fields = (
            "markId",
            "accountId",
            "kind",
            "groupId",
            "lockId",
            "name",
            "state",
            "externalId",
            "reason",
            "markedAt",
            "pushedAt",
        )

    def get_name(self, obj) -> str:
        return (obj.group or obj.lock).display_name


class LocktMarkCreateSerializer(InputSerializer):
    """createLocktMark: exactly one of `groupId` and `lockId` (the schema states it)."""

    @classmethod
    def request_schema(cls, schema: dict) -> dict:
        return {**schema, "oneOf": [{"required": ["groupId"]}, {"required": ["lockId"]}]}

    groupId = serializers.UUIDField(
        required=False, help_text="A Keyhouse custom group of the account's property (becomes a Lockt access level)."
    )
    lockId = serializers.UUIDField(
        required=False, help_text="A Keyhouse lock of the account's property (becomes a Lockt door)."
    )

    def validate(self, attrs):
        if ("groupId" in attrs) == ("lockId" in attrs):
            raise serializers.ValidationError({"groupId": ["Give exactly one of groupId and lockId."]})
        return attrs
