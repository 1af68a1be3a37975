"""Portal API bodies: seed 002's names (EntityModelUnitUserDto, the update input, the query
and Spring Data's page), the devices list, the guests extension, and the staff DPSK export."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.serializers import InputSerializer, TimestampField
from apps.portal.models import UnitUserStatus, UnitUserType
from apps.portal.passphrases import MAX_LENGTH, MIN_LENGTH

E164_PATTERN = r"^\+[1-9]\d{1,14}$"
E164_OR_BLANK = r"^(\+[1-9]\d{1,14})?$"  # where "" is accepted (allow_blank): the schema says so too
PASSPHRASE_HELP = (
    f'Unit user passphrase. "" resets it to a server-generated one; a chosen one is {MIN_LENGTH}..{MAX_LENGTH} '
    "printable ASCII characters, unique in the property. Only UNIT rights see other users' "
    "passphrases (null otherwise, and when the user has none)."
)


class LinksField(serializers.DictField):
    """HAL `_links` ({rel: {href}})."""

    child = serializers.DictField(child=serializers.CharField())


class UnitUserSerializer(serializers.Serializer):
    """Seed EntityModelUnitUserDto."""

    userId = serializers.UUIDField(source="user_id", help_text="Unit user identifier.")
    userName = serializers.CharField(source="user_name", help_text="Unit user name.")
    email = serializers.CharField(max_length=255, help_text="Unit user email (contact; 0..255 characters).")
    phoneNumber = serializers.CharField(
        source="phone_number", max_length=16, help_text="Unit user phone number (E.164, 0..16 characters)."
    )
    passphrase = serializers.SerializerMethodField(help_text=PASSPHRASE_HELP)
    status = serializers.ChoiceField(choices=UnitUserStatus.choices, help_text="Unit user status.")
    type = serializers.ChoiceField(source="user_type", choices=UnitUserType.choices, help_text="Unit user type.")
    _links = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_passphrase(self, unit_user):
        return self.context["passphrase_of"](unit_user)

    @extend_schema_field(LinksField())
    def get__links(self, unit_user):
        base = self.context["base"]
        return {
            "self": {"href": f"{base}/units/users/{unit_user.user_id}"},
            "devices": {"href": f"{base}/units/users/{unit_user.user_id}/devices"},
        }


class UnitUserUpdateSerializer(InputSerializer):
    """Seed updateUnitUser body: fields left out stay as they are; `_links` is ignored."""

    userId = serializers.UUIDField(required=False, help_text="Must equal the path's userId.")
    userName = serializers.CharField(required=False, max_length=200, help_text="Unit user name.")
    email = serializers.EmailField(
        required=False, allow_blank=True, max_length=255, help_text='Contact email, 0..255 characters; "" clears it.'
    )
    phoneNumber = serializers.RegexField(
        E164_OR_BLANK,
        required=False,
        allow_blank=True,
        max_length=16,
        help_text='E.164 (e.g. +14155550123), 0..16 characters; "" clears it.',
        error_messages={"invalid": "Use E.164 format: + and up to 15 digits, e.g. +14155550123."},
    )
    passphrase = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=MAX_LENGTH, help_text=PASSPHRASE_HELP
    )
    status = serializers.ChoiceField(
        choices=UnitUserStatus.choices, required=False, help_text="BLOCKED / ACTIVE: UNIT rights only."
    )
    type = serializers.ChoiceField(
        choices=UnitUserType.choices, required=False, help_text="Cannot be changed: must equal the current type."
    )
    _links = serializers.JSONField(required=False, help_text="Ignored.")


class UnitUserUpdateOutputSerializer(serializers.Serializer):
    personaUpdateId = serializers.UUIDField(help_text="Id of the `unit_user.updated` event.")
    dpskUpdateId = serializers.UUIDField(
        allow_null=True, help_text="Id of the `unit_user.passphrase_changed` event; null when it did not change."
    )


class SortFieldsField(serializers.ListField):
    """`sortFields`: ["userId"], or the bare string "userId" the seed's example sends."""

    child = serializers.ChoiceField(choices=["userId"])

    def to_internal_value(self, data):
        data = [data] if isinstance(data, str) else data
        if isinstance(data, list) and any(item != "userId" for item in data):
            raise serializers.ValidationError('Only "userId" can be sorted by.')
        return super().to_internal_value(data)


class UnitUserQuerySerializer(InputSerializer):
    sortDirection = serializers.ChoiceField(choices=["ASC", "DESC"], required=False, default="ASC")
    page = serializers.IntegerField(required=False, default=0, min_value=0, max_value=2**31 - 1)
    pageSize = serializers.IntegerField(required=False, default=20, min_value=1, max_value=100)
    userId = serializers.UUIDField(required=False, allow_null=True, help_text="Only this unit user.")
    sortFields = SortFieldsField(required=False, help_text='Only "userId" (a bare string is accepted too).')


class SortObjectSerializer(serializers.Serializer):
    empty = serializers.BooleanField()
    sorted = serializers.BooleanField()
    unsorted = serializers.BooleanField()


class PageableObjectSerializer(serializers.Serializer):
    offset = serializers.IntegerField()
    sort = SortObjectSerializer()
    pageNumber = serializers.IntegerField()
    pageSize = serializers.IntegerField()
    paged = serializers.BooleanField()
    unpaged = serializers.BooleanField()


class UnitUserPageSerializer(serializers.Serializer):
    """Spring Data's Page, as the seed shows it."""

    totalPages = serializers.IntegerField()
    totalElements = serializers.IntegerField()
    first = serializers.BooleanField()
    last = serializers.BooleanField()
    size = serializers.IntegerField(help_text="The page size asked for.")
    content = UnitUserSerializer(many=True)
    number = serializers.IntegerField(help_text="The page index (from 0).")
    sort = SortObjectSerializer()
    numberOfElements = serializers.IntegerField(help_text="Items on this page.")
    pageable = PageableObjectSerializer()
    empty = serializers.BooleanField()


class UnitDeviceSerializer(serializers.Serializer):
    """UnitDeviceDto (the seed leaves it undefined): a key-holding phone of the user."""

    deviceId = serializers.UUIDField(source="pk")
    displayName = serializers.CharField(source="display_name")
    deviceType = serializers.CharField(source="device_type")
    makeModel = serializers.CharField(source="make_model")
    lastSyncAt = TimestampField(source="last_known_sync_date", allow_null=True)


class UnitDeviceListSerializer(serializers.Serializer):
    contents = UnitDeviceSerializer(many=True)
    _links = LinksField()


class GuestCreateSerializer(InputSerializer):
    """Extension: invite a guest (created with a GUEST grant and a passphrase for the window)."""

    userName = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=255, help_text="Required: the invitation is emailed.")
    phoneNumber = serializers.RegexField(
        E164_OR_BLANK,
        required=False,
        allow_blank=True,
        max_length=16,
        default="",
        error_messages={"invalid": "Use E.164 format: + and up to 15 digits, e.g. +14155550123."},
    )
    validFrom = TimestampField(required=False, allow_null=True, default=None)
    validUntil = TimestampField(help_text="Required; at most the property's guest maximum (default 30 days) ahead.")


class DpskEntrySerializer(serializers.Serializer):
    userId = serializers.UUIDField()
    unitId = serializers.UUIDField()
    unitName = serializers.CharField()
    userName = serializers.CharField()
    type = serializers.ChoiceField(choices=UnitUserType.choices)
    status = serializers.ChoiceField(choices=UnitUserStatus.choices)
    passphrase = serializers.CharField(allow_null=True, help_text="null when blocked or ended.")
    active = serializers.BooleanField(help_text="false when blocked, outside a guest's window, or without passphrase")
    validFrom = TimestampField(allow_null=True)
    validUntil = TimestampField(allow_null=True)


class DpskExportSerializer(serializers.Serializer):
    wifiNetworkName = serializers.CharField()
    passphrases = DpskEntrySerializer(many=True)
