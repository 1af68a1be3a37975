"""The resident portal's rows: per-property portal settings, unit tokens, and unit users.

A unit is a `resident` area (apps.areas); the portal adds, per unit, its bearer token and its
people (docs/PORTAL.md). Writes go through apps.portal.services only.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from apps.areas.models import Area
from apps.core.ids import uuid7
from apps.core.models import Entity

UNIT_TOKEN_KIND = "khr"  # `khr_<prefix>_<random>`: a unit's resident-portal token


class UnitUserType(models.TextChoices):
    """Seed `type`: UNIT (leaseholder), LINKED (household), GUEST."""

    UNIT = "UNIT"
    LINKED = "LINKED"
    GUEST = "GUEST"


class UnitUserStatus(models.TextChoices):
    """Seed `status`."""

    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"


class PortalSettings(models.Model):
    """A property's portal settings; a property without a row uses the defaults."""

    property = models.OneToOneField(
        "properties.Property", primary_key=True, on_delete=models.CASCADE, related_name="portal_settings"
    )
    wifi_network_name = models.CharField(max_length=32, blank=True, default="", help_text="The DPSK SSID.")
    passphrase_length = models.PositiveSmallIntegerField(
        default=16,
        validators=[MinValueValidator(8), MaxValueValidator(63)],
        help_text="Length of server-generated passphrases (8..63).",
    )
    guest_max_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="Longest guest access residents may give, in days.",
    )

    class Meta:
        verbose_name = "portal settings"
        verbose_name_plural = "portal settings"

    def __str__(self) -> str:
        return f"Portal settings of {self.property}"


class UnitToken(models.Model):
    """A unit's bearer token: only its keyed hash is stored (like API keys). One live token per
    unit; rotating revokes the old row and adds a new one."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    area = models.ForeignKey("areas.Area", on_delete=models.CASCADE, related_name="unit_tokens")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    pepper_id = models.PositiveSmallIntegerField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=120, default="system")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["area"], condition=Q(revoked_at__isnull=True), name="unit_token_one_live")
        ]

    def __str__(self) -> str:
        return f"khr_{self.prefix}_…"


class UnitUser(Entity):
    """A person of a unit (seed EntityModelUnitUserDto). `user_name`, `email` and
    `phone_number` are the unit's contact details for them; the account's sign-in email is
    the account's own (docs/PORTAL.md: a unit token must not be able to take an account over).

    The passphrase is stored twice: wrapped under the KEK ring (to show and export it), and
    as a keyed hash (to keep it unique in the property without decrypting every row).
    """

    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="unit_users")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="unit_users")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="unit_users")
    user_type = models.CharField(max_length=8, choices=UnitUserType.choices)
    status = models.CharField(max_length=8, choices=UnitUserStatus.choices, default=UnitUserStatus.ACTIVE)
    user_name = models.CharField(max_length=200)
    email = models.EmailField(max_length=255, blank=True, default="")
    phone_number = models.CharField(max_length=16, blank=True, default="")

    passphrase_wrapped = models.BinaryField(null=True, blank=True, editable=False)
    passphrase_kek_id = models.PositiveIntegerField(null=True, blank=True, editable=False)
    passphrase_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    passphrase_pepper_id = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    passphrase_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    # GUEST only: the window of their grants and passphrase, and who invited them.
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    granted_by = models.CharField(max_length=120, blank=True, default="")
    grant_ids = models.JSONField(default=list, blank=True, editable=False)

    class Meta(Entity.Meta):
        constraints = [
            models.UniqueConstraint(fields=["property", "user"], name="unit_user_one_unit_per_property"),
            models.UniqueConstraint(
                fields=["property", "passphrase_digest"],
                condition=~Q(passphrase_digest=""),
                name="unit_user_passphrase_unique",
            ),
            models.CheckConstraint(
                condition=~Q(user_type="GUEST") | Q(valid_until__isnull=False), name="unit_user_guest_ends"
            ),
        ]
        indexes = [models.Index(fields=["area", "user"], name="unit_user_area_idx")]

    def __str__(self) -> str:
        return f"{self.user_name} ({self.user_type.lower()})"


class Unit(Area):
    """A unit as the portal's admin shows it (a proxy of the resident area)."""

    class Meta:
        proxy = True
        verbose_name = "unit (resident portal)"
        verbose_name_plural = "units (resident portal)"
