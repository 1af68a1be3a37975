"""Identities: users (staff and residents alike), API keys, their permission grants, and
sign-in tokens and codes for the mobile app."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.contenttypes.fields import GenericRelation
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from apps.accounts.choices import PermissionGrantPermission, SignInCodePurpose
from apps.core.ids import uuid7
from apps.core.models import Entity, EntityQuerySet
from apps.core.validators import validate_address


class UserManager(BaseUserManager.from_queryset(EntityQuerySet)):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        """Low-level constructor for Django's auth machinery; domain code uses services."""
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.full_clean()
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin, Entity):
    """Spec User: a person. Staff sign in to the admin; everyone may sign in to the app.

    The spec's `userPermissions` are PermissionGrant rows (`grants`), not Django's
    `user_permissions` (which only govern the staff admin).
    """

    external_refs = GenericRelation("core.ExternalRef", related_query_name="user")

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=200)
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    phone_number = models.CharField(
        max_length=16,
        blank=True,
        default="",
        help_text="E.164, e.g. +14155550123",
        validators=[
            RegexValidator(r"^\+[1-9]\d{1,14}$", "Use E.164 format: + and up to 15 digits, e.g. +14155550123.")
        ],
    )
    billing_address = models.JSONField(null=True, blank=True, validators=[validate_address])
    is_staff = models.BooleanField(default=False, help_text="May sign in to the staff admin.")
    is_active = models.BooleanField(default=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    objects = UserManager()

    class Meta(Entity.Meta):
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.display_name} <{self.email}>"


class ApiKey(Entity):
    """Spec ApiKey: a named credential with `apiPermissions`; the secret is shown once."""

    display_name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=12, unique=True, editable=False, help_text="Public lookup id.")
    digest = models.CharField(max_length=64, editable=False)
    pepper_id = models.PositiveSmallIntegerField(editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(Entity.Meta):
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.display_name} (khk_{self.prefix}_…)"


class PermissionGrant(models.Model):
    """Spec UserPermission {permission, propertyId?, userId?}, held by an API key or a user."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="grants")
    permission = models.CharField(max_length=32, choices=PermissionGrantPermission.choices)
    property_id = models.UUIDField(null=True, blank=True, help_text="Limit to one property (blank: all).")
    scope_user_id = models.UUIDField(null=True, blank=True, help_text="Limit to one user (blank: all).")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(api_key__isnull=False, user__isnull=True) | Q(api_key__isnull=True, user__isnull=False),
                name="grant_has_exactly_one_holder",
            )
        ]

    def __str__(self) -> str:
        scope = [f"property {self.property_id}"] if self.property_id else []
        scope += [f"user {self.scope_user_id}"] if self.scope_user_id else []
        return f"{self.permission} ({', '.join(scope) or 'all'})"


class UserToken(models.Model):
    """A mobile-app sign-in token: bound to one user, expiring, revocable."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    pepper_id = models.PositiveSmallIntegerField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class SignInCode(models.Model):
    """A one-time code sent by email; stored hashed, short-lived, few attempts. It signs the
    person in, or (`email_change`) confirms `email` as their new sign-in email; a new code
    replaces the person's unused ones of the same purpose."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sign_in_codes")
    purpose = models.CharField(max_length=16, choices=SignInCodePurpose.choices, default=SignInCodePurpose.SIGN_IN)
    email = models.EmailField(blank=True, default="", help_text="email_change: the new address the code went to.")
    digest = models.CharField(max_length=64)
    pepper_id = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]


class CredentialVersion(models.Model):
    """One row (id 1): a number every change to an API key or its grants raises, in the
    change's own transaction. Each process keeps the keys it has authenticated while this
    number is unchanged (accounts.credential_cache); any change empties every process's copy
    on its next request. See docs/ARCHITECTURE.md "Authentication"."""

    id = models.PositiveSmallIntegerField(primary_key=True)
    value = models.BigIntegerField(default=0)
