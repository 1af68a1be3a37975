"""Spec UserGroup / CreateUserGroupInput / UserGroupWritable, and the access-model extensions
(schedules, grants, blocks, explain, what-if)."""

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.access.models import (
    AccessBlock,
    AccessGrant,
    AccessLevel,
    Schedule,
    UserGroup,
    UserGroupGroupSource,
    UserGroupGroupType,
)
from apps.core.api.serializers import EntitySerializer, ExternalRefsField, InputSerializer, TimestampField


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


# --- membership windows (extension) -------------------------------------------------------


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 instant with its offset (`Z` or `+01:00`), as OpenAPI's `date-time` (RFC 3339)
    says: a time without one is refused by name rather than read in some zone."""

    def to_internal_value(self, value):
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                raise serializers.ValidationError("Must carry a time zone offset (Z or +hh:mm).")
        return super().to_internal_value(value)


class MembershipSerializer(serializers.Serializer):
    """A person's membership of a user group with its validity window (extension)."""

    userGroupId = serializers.UUIDField(source="user_group_id", read_only=True)
    userId = serializers.UUIDField(source="user_id", read_only=True)
    userDisplayName = serializers.CharField(source="user.display_name", read_only=True)
    validFrom = TimestampField(
        source="valid_from", read_only=True, allow_null=True, help_text="From this instant (null: always)."
    )
    validUntil = TimestampField(
        source="valid_until", read_only=True, allow_null=True, help_text="Until this instant, excluded (null: no end)."
    )
    windowSource = serializers.SerializerMethodField(
        help_text="`lockt`: the window comes from Lockt and only Lockt changes it; `keyhouse`: managers edit it."
    )

    @extend_schema_field({"type": "string", "enum": ["keyhouse", "lockt"]})
    def get_windowSource(self, obj) -> str:
        return "lockt" if self.context.get("lockt_owned") else "keyhouse"


class MembershipWindowInputSerializer(InputSerializer):
    """A membership's validity window: `validUntil` after `validFrom`; absent or null = unbounded."""

    validFrom = AwareDateTimeField(required=False, allow_null=True, help_text="Null or absent: always.")
    validUntil = AwareDateTimeField(
        required=False, allow_null=True, help_text="Excluded; after validFrom. Null or absent: no end."
    )

    def validate(self, attrs):
        valid_from, valid_until = attrs.get("validFrom"), attrs.get("validUntil")
        if valid_from and valid_until and valid_from >= valid_until:
            raise serializers.ValidationError({"validUntil": ["Must be after validFrom."]})
        return attrs


# --- schedules ---------------------------------------------------------------------------


class WindowSerializer(serializers.Serializer):
    """One weekly window (docs/SCHEDULES.md). `stop` <= `start` crosses midnight."""

    days = serializers.ListField(
        child=serializers.ChoiceField(choices=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    )
    start = serializers.CharField(help_text="HH:MM or HH:MM:SS, local time of the property.")
    stop = serializers.CharField(help_text="HH:MM or HH:MM:SS; 24:00 = end of day.")


# What apps.access.schedules._window_from_json accepts (docs/SCHEDULES.md), stated for clients:
# day names once each, HH:MM[:SS] times, `stop` up to 24:00. It also refuses stop == start,
# which JSON Schema cannot compare (the description says it).
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?"
WINDOW_INPUT_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["days", "start", "stop"],
    "description": "One weekly window; `stop` <= `start` crosses midnight, `stop` == `start` is refused "
    "(use 00:00–24:00 for a whole day).",
    "properties": {
        "days": {
            "type": "array",
            "minItems": 1,
            "maxItems": 7,
            "uniqueItems": True,
            "items": {"type": "string", "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
        },
        "start": {"type": "string", "pattern": f"^{_TIME}$"},
        "stop": {"type": "string", "pattern": f"^({_TIME}|24:00(:00)?)$"},
    },
}


@extend_schema_field({"type": "array", "minItems": 1, "maxItems": 50, "items": WINDOW_INPUT_SCHEMA})
class WindowsInputField(serializers.ListField):
    """`windows` as sent: parsed by apps.access.schedules, which names the offending item."""

    def __init__(self, **kwargs):
        super().__init__(
            child=serializers.JSONField(),
            min_length=1,
            max_length=50,
            error_messages={"min_length": "Must list at least one window."},
            **kwargs,
        )


class ScheduleSerializer(EntitySerializer):
    scheduleId = serializers.UUIDField(source="id", read_only=True)
    propertyId = serializers.UUIDField(source="property_id", read_only=True)
    windows = WindowSerializer(many=True, read_only=True)
    validFrom = TimestampField(source="valid_from", read_only=True, allow_null=True)
    validUntil = TimestampField(source="valid_until", read_only=True, allow_null=True)
    externalRefs = ExternalRefsField()

    class Meta:
        model = Schedule
        fields = (
            "scheduleId",
            "propertyId",
            "display_name",
            "windows",
            "validFrom",
            "validUntil",
            "externalRefs",
            *EntitySerializer.BASE_FIELDS,
        )


class ScheduleWritableSerializer(InputSerializer):
    """Create or replace a schedule. `windows` is checked by apps.access.schedules, which names
    the offending item (`windows[1].stop`)."""

    displayName = serializers.CharField(max_length=200)
    windows = WindowsInputField()
    validFrom = serializers.DateTimeField(required=False, allow_null=True)
    validUntil = serializers.DateTimeField(required=False, allow_null=True)


# --- grants ------------------------------------------------------------------------------


class GrantSerializer(EntitySerializer):
    grantId = serializers.UUIDField(source="id", read_only=True)
    propertyId = serializers.UUIDField(source="property_id", read_only=True)
    userId = serializers.UUIDField(source="user_id", read_only=True)
    lockId = serializers.UUIDField(source="lock_id", read_only=True, allow_null=True)
    areaId = serializers.UUIDField(source="area_id", read_only=True, allow_null=True)
    accessLevel = serializers.ChoiceField(source="access_level", choices=AccessLevel.choices, read_only=True)
    validFrom = TimestampField(source="valid_from", read_only=True, allow_null=True)
    validUntil = TimestampField(source="valid_until", read_only=True, allow_null=True)
    grantedBy = serializers.CharField(source="granted_by", read_only=True)
    revokedAt = TimestampField(source="revoked_at", read_only=True, allow_null=True)
    revokedBy = serializers.CharField(source="revoked_by", read_only=True)
    state = serializers.SerializerMethodField(help_text="scheduled, active, expired or revoked (now).")

    class Meta:
        model = AccessGrant
        fields = (
            "grantId",
            "propertyId",
            "userId",
            "lockId",
            "areaId",
            "accessLevel",
            "validFrom",
            "validUntil",
            "grantedBy",
            "revokedAt",
            "revokedBy",
            "state",
            *EntitySerializer.BASE_FIELDS,
        )

    def get_state(self, grant) -> str:
        now = timezone.now()
        if grant.revoked_at:
            return "revoked"
        if grant.expired_at or (grant.valid_until and grant.valid_until <= now):
            return "expired"
        if grant.valid_from and grant.valid_from > now:
            return "scheduled"
        return "active"


class NewGrantSerializer(InputSerializer):
    """createGrant: exactly one of `lockId` and `areaId`; a GUEST grant needs `validUntil`
    (access.services.grant_create refuses otherwise; the schema states both)."""

    @classmethod
    def request_schema(cls, schema: dict) -> dict:
        uuid, null = {"type": "string", "format": "uuid"}, {"type": "string", "nullable": True, "enum": [None]}
        target = [
            {"required": ["lockId"], "properties": {"lockId": uuid, "areaId": null}},
            {"required": ["areaId"], "properties": {"areaId": uuid, "lockId": null}},
        ]
        levels = [level for level in AccessLevel.values if level != AccessLevel.GUEST]
        guest = [
            {"properties": {"accessLevel": {"type": "string", "enum": levels}}},
            {"required": ["validUntil"], "properties": {"validUntil": {"type": "string", "format": "date-time"}}},
        ]
        return {**schema, "allOf": [{"oneOf": target}, {"anyOf": guest}]}

    userId = serializers.UUIDField()
    lockId = serializers.UUIDField(required=False, allow_null=True)
    areaId = serializers.UUIDField(required=False, allow_null=True)
    accessLevel = serializers.ChoiceField(choices=AccessLevel.choices)
    validFrom = serializers.DateTimeField(required=False, allow_null=True)
    validUntil = serializers.DateTimeField(required=False, allow_null=True, help_text="Required for GUEST.")


# --- blocks ------------------------------------------------------------------------------


class BlockSerializer(serializers.ModelSerializer):
    userId = serializers.UUIDField(source="user_id", read_only=True)
    propertyId = serializers.UUIDField(source="property_id", read_only=True)
    createdAt = TimestampField(source="created_at", read_only=True)
    createdBy = serializers.CharField(source="created_by", read_only=True)

    class Meta:
        model = AccessBlock
        fields = ("userId", "propertyId", "reason", "createdAt", "createdBy")


class BlockInputSerializer(InputSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


# --- explain / what-if -------------------------------------------------------------------


class ExplainPathSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["group", "grant", "open"])
    holds = serializers.BooleanField(help_text="This path lets the person in at `at`.")
    source = serializers.CharField()
    userGroupId = serializers.UUIDField(allow_null=True)
    userGroupName = serializers.CharField(allow_null=True)
    areaId = serializers.UUIDField(allow_null=True)
    scheduleId = serializers.UUIDField(allow_null=True)
    steps = serializers.ListField(child=serializers.CharField())


class ExplainSerializer(serializers.Serializer):
    userId = serializers.UUIDField()
    lockId = serializers.UUIDField()
    at = TimestampField()
    timeZone = serializers.CharField()
    allowed = serializers.BooleanField()
    blocked = serializers.BooleanField()
    summary = serializers.CharField()
    paths = ExplainPathSerializer(many=True)


CHANGES = (
    "addMembership",
    "removeMembership",
    "setMembershipWindow",
    "setAccessList",
    "moveArea",
    "setSchedule",
    "addGrant",
    "revokeGrant",
    "block",
    "unblock",
)


def _access_list_entries():
    from apps.areas.serializers import AccessListEntrySerializer

    return AccessListEntrySerializer(many=True)


@extend_schema_field(_access_list_entries())
class AccessListInputField(serializers.ListField):
    """A proposed `accessList`: entries as an area's (apps.areas AccessListEntry), checked the same way."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.JSONField(), max_length=200, **kwargs)

    def to_internal_value(self, data):
        from apps.areas.serializers import AccessListEntrySerializer

        value = super().to_internal_value(data)
        entries = AccessListEntrySerializer(data=value, many=True)
        if not entries.is_valid():
            raise serializers.ValidationError(entries.errors)
        return value


class ProposedChangeSerializer(InputSerializer):
    """One proposed change; which fields it needs depends on `change` (docs/ACCESS.md)."""

    NEEDS = {
        "addMembership": ("userGroupId", "userId"),
        "removeMembership": ("userGroupId", "userId"),
        "setMembershipWindow": ("userGroupId", "userId"),
        "setAccessList": ("areaId", "accessList"),
        "moveArea": ("areaId",),
        "setSchedule": ("scheduleId", "windows"),
        "addGrant": ("userId",),
        "revokeGrant": ("grantId",),
        "block": ("userId",),
        "unblock": ("userId",),
    }

    @classmethod
    def request_schema(cls, schema: dict) -> dict:
        """One variant per `change`, requiring what that change needs (NEEDS); `addGrant` names
        exactly one of `lockId` and `areaId` (as createGrant)."""
        uuid, null = {"type": "string", "format": "uuid"}, {"type": "string", "nullable": True, "enum": [None]}
        variants = []
        for change, needs in cls.NEEDS.items():
            needed = {  # what a change needs is never null (`areaId` may be null elsewhere, not here)
                name: {k: v for k, v in schema["properties"][name].items() if k != "nullable"} for name in needs
            }
            variant = {
                "required": ["change", *needs],
                "properties": {"change": {"type": "string", "enum": [change]}, **needed},
            }
            if change == "addGrant":
                variant["oneOf"] = [
                    {"required": ["lockId"], "properties": {"lockId": uuid, "areaId": null}},
                    {"required": ["areaId"], "properties": {"areaId": uuid, "lockId": null}},
                ]
            variants.append(variant)
        return {**schema, "oneOf": variants}

    change = serializers.ChoiceField(choices=CHANGES)
    userId = serializers.UUIDField(required=False)
    userGroupId = serializers.UUIDField(required=False)
    areaId = serializers.UUIDField(required=False, allow_null=True)
    parentAreaId = serializers.UUIDField(required=False, allow_null=True)
    lockId = serializers.UUIDField(required=False, allow_null=True)
    grantId = serializers.UUIDField(required=False)
    scheduleId = serializers.UUIDField(required=False)
    accessList = AccessListInputField(required=False)
    windows = WindowsInputField(required=False)
    validFrom = serializers.DateTimeField(required=False, allow_null=True)
    validUntil = serializers.DateTimeField(required=False, allow_null=True)

    def validate_windows(self, value):
        """Windows are checked whatever the change (the schema states their form for every one)."""
        from apps.access.schedules import ScheduleError, windows_from_json

        try:
            windows_from_json(value)
        except ScheduleError as exc:
            raise serializers.ValidationError(f"{exc.field}: {exc.message}") from None
        return value

    def validate(self, attrs):
        missing = {name: ["Required for this change."] for name in self.NEEDS[attrs["change"]] if name not in attrs}
        if missing:
            raise serializers.ValidationError(missing)
        return attrs


class WhatIfInputSerializer(InputSerializer):
    changes = ProposedChangeSerializer(
        many=True, allow_empty=False, error_messages={"empty": "Propose at least one change."}
    )

    def validate_changes(self, value):
        if not value:
            raise serializers.ValidationError("Propose at least one change.")
        return value


class UserLockSerializer(serializers.Serializer):
    userId = serializers.UUIDField()
    userDisplayName = serializers.CharField()
    lockId = serializers.UUIDField()
    lockName = serializers.CharField()


class WhatIfSerializer(serializers.Serializer):
    gains = UserLockSerializer(many=True, help_text="People who could open a lock they cannot now.")
    losses = UserLockSerializer(many=True, help_text="People who could no longer open a lock.")
    changed = UserLockSerializer(many=True, help_text="Same lock, different windows or validity.")
    usersConsidered = serializers.IntegerField()
