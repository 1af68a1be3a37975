"""Spec ApiKey / NewApiKey / UserPermission, and the sign-in extension bodies."""

from rest_framework import serializers

from apps.accounts.choices import PermissionGrantPermission
from apps.accounts.models import ApiKey, User
from apps.accounts.selectors import api_key_grant_rows
from apps.core.api.serializers import (
    AddressSerializer,
    EntitySerializer,
    ExternalRefsField,
    InputSerializer,
    TimestampField,
    page_cached,
)
from apps.core.operations import ME
from apps.core.principal import Grant
from apps.devices.selectors import device_ids_for_users


class GrantablePermissionField(serializers.ChoiceField):
    """A permission a grant may hold: the spec's UserPermission values but `me`, which every
    person holds for themselves and nothing may be granted (accounts.services.grants_refusals).
    The schema's enum is this list, so it names only what the server accepts."""

    default_error_messages = {"implicit": "`me` is implicit for every user and cannot be granted."}

    def __init__(self, **kwargs):
        choices = [(value, label) for value, label in PermissionGrantPermission.choices if value != ME]
        super().__init__(choices=choices, **kwargs)

    def to_internal_value(self, data):
        if data == ME:
            self.fail("implicit")
        return super().to_internal_value(data)


class UserPermissionSerializer(InputSerializer):
    """Spec UserPermission (`permission`: the grantable ones, see GrantablePermissionField)."""

    permission = GrantablePermissionField()
    propertyId = serializers.UUIDField(
        required=False, allow_null=True, help_text="Optional scoping for this permission"
    )
    userId = serializers.UUIDField(required=False, allow_null=True, help_text="Optional scoping for this permission")

    def to_grant(self, data: dict) -> Grant:
        return Grant(data["permission"], data.get("propertyId"), data.get("userId"))

    @staticmethod
    def from_grant_row(row) -> dict:
        return {"permission": row.permission, "propertyId": row.property_id, "userId": row.scope_user_id}


def grants_from_input(items: list[dict]) -> list[Grant]:
    return [Grant(i["permission"], i.get("propertyId"), i.get("userId")) for i in items]


class ApiKeySerializer(EntitySerializer):
    """Spec ApiKey (+ `lastUsedAt`, `revokedAt` extensions)."""

    apiKeyId = serializers.UUIDField(source="id", read_only=True)
    apiPermissions = serializers.SerializerMethodField()
    lastUsedAt = TimestampField(source="last_used_at", read_only=True, allow_null=True)
    revokedAt = TimestampField(source="revoked_at", read_only=True, allow_null=True)

    class Meta:
        model = ApiKey
        fields = (
            "apiKeyId",
            "apiPermissions",
            "display_name",
            "lastUsedAt",
            "revokedAt",
            *EntitySerializer.BASE_FIELDS,
        )

    def get_apiPermissions(self, obj) -> list[dict]:
        rows = page_cached(self.fields["apiPermissions"], "_grant_rows", api_key_grant_rows)
        if rows is None:
            rows = api_key_grant_rows([obj])
        return [
            {"permission": permission, "propertyId": property_id, "userId": user_id}
            for permission, property_id, user_id in rows.get(obj.pk, ())
        ]

    # drf-spectacular: document apiPermissions as a list of UserPermission
    get_apiPermissions.__annotations__["return"] = UserPermissionSerializer(many=True)


class NewApiKeySerializer(ApiKeySerializer):
    """Spec NewApiKey as returned once at creation: the key plus its `secret`."""

    secret = serializers.CharField(read_only=True, help_text="Shown only in this response; store it now.")

    class Meta(ApiKeySerializer.Meta):
        fields = (*ApiKeySerializer.Meta.fields, "secret")


class ApiKeyCreateSerializer(InputSerializer):
    displayName = serializers.CharField(max_length=200)
    apiPermissions = UserPermissionSerializer(many=True, allow_empty=False)


class SignInCodeRequestSerializer(InputSerializer):
    email = serializers.EmailField()


class AuthTokenCreateSerializer(InputSerializer):
    email = serializers.EmailField()
    password = serializers.CharField(required=False, trim_whitespace=False, style={"input_type": "password"})
    code = serializers.RegexField(r"^\d{6}$", required=False, help_text="The 6-digit code from the email.")

    def validate(self, attrs):
        if ("password" in attrs) == ("code" in attrs):
            raise serializers.ValidationError({"password": ["Give either password or code, not both."]})
        return attrs


class EmailChangeRequestSerializer(InputSerializer):
    """requestEmailChange (extension): the new sign-in email to send a code to."""

    email = serializers.EmailField(help_text="The new sign-in email; a 6-digit code is mailed to it.")


class EmailChangeConfirmSerializer(InputSerializer):
    """confirmEmailChange (extension): the new sign-in email and the code mailed to it."""

    email = serializers.EmailField(help_text="The new sign-in email, as in the request.")
    code = serializers.RegexField(r"^\d{6}$", help_text="The 6-digit code mailed to the new email.")


class AuthTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as 'Authorization: Bearer <token>'. Shown only once.")
    userId = serializers.UUIDField()
    expiresAt = TimestampField()


class UserPrivateSerializer(InputSerializer):
    """Spec UserWritable_private: only returned to the user and their managers."""

    firstName = serializers.CharField(source="first_name", max_length=100, allow_blank=True)
    lastName = serializers.CharField(source="last_name", max_length=100, allow_blank=True)
    email = serializers.EmailField()
    phoneNumber = serializers.RegexField(
        r"^(\+[1-9]\d{1,14})?$",  # E.164, or "" for none
        source="phone_number",
        allow_blank=True,
        error_messages={"invalid": "Use E.164 format, e.g. +14155550123."},
    )
    billingAddress = AddressSerializer(source="billing_address", allow_null=True)


class UserListSerializer(serializers.ListSerializer):
    """Users of a page: their `deviceIds` come from one query for the page, not one per row."""

    def to_representation(self, data):
        users = list(data.all() if hasattr(data, "all") else data)
        found = device_ids_for_users([user.pk for user in users])
        self.context["_device_ids"] = {str(user.pk): found.get(str(user.pk), []) for user in users}
        return super().to_representation(users)


class UserSerializer(EntitySerializer):
    """Spec User. `private` appears only when the serializer context has `show_private`."""

    userId = serializers.UUIDField(source="id", read_only=True)
    userPermissions = serializers.SerializerMethodField()
    deviceIds = serializers.SerializerMethodField()
    externalRefs = ExternalRefsField()
    private = UserPrivateSerializer(source="*", read_only=True, required=False)

    class Meta:
        model = User
        fields = (
            "userId",
            "userPermissions",
            "deviceIds",
            "externalRefs",
            "display_name",
            "private",
            *EntitySerializer.BASE_FIELDS,
        )
        list_serializer_class = UserListSerializer
        optional_output = ("private",)  # only to the user and their managers, never in deleteUser's answer

    def get_userPermissions(self, obj) -> list[dict]:
        # Read from the rows (property_id, scope_user_id), as ApiKeySerializer does: the
        # input serializer's own fields would look for `propertyId` on the row and emit null.
        return [UserPermissionSerializer.from_grant_row(row) for row in obj.grants.all()]

    get_userPermissions.__annotations__["return"] = UserPermissionSerializer(many=True)

    def get_deviceIds(self, obj) -> list[str]:
        # A list fills `_device_ids` for the whole page in one query (UserListSerializer);
        # a single user costs one query.

        known = self.context.get("_device_ids") or {}
        if str(obj.pk) not in known:
            known = device_ids_for_users([obj.pk])
        return known.get(str(obj.pk), [])

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.context.get("show_private"):
            data.pop("private", None)
        return data


class UserWritableSerializer(InputSerializer):
    """Spec UserWritable (+ `userPermissions`, which only managers may set)."""

    displayName = serializers.CharField(max_length=200)
    private = UserPrivateSerializer(required=False)
    userPermissions = UserPermissionSerializer(many=True, required=False)


class NewUserSerializer(UserWritableSerializer):
    """Spec NewUser input: `private.email` is required (it is how the person signs in).
    `userGroupIds` (extension) puts the new user in those groups in the same transaction."""

    private = UserPrivateSerializer()
    userGroupIds = serializers.ListField(
        child=serializers.UUIDField(),
        max_length=50,
        required=False,
        help_text="Extension: groups to add the new user to. A property-scoped caller must name one of its "
        "groups (or grant a permission on one of its properties), else it could not see the user it created.",
    )
