"""User groups (spec UserGroup) and membership."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from apps.core.ids import uuid7
from apps.core.models import Entity


class UserGroupGroupSource(models.TextChoices):
    PROPERTY = "property"  # created with the property; deleted with it
    AREA = "area"  # an area's own group; deleted with the area
    CUSTOM = "custom"  # made by a manager


class UserGroupGroupType(models.TextChoices):
    RESIDENT = "resident"
    COMMON = "common"
    STAFF = "staff"


class UserGroup(Entity):
    """Spec UserGroup: people who get access together."""

    external_refs = GenericRelation("core.ExternalRef", related_query_name="usergroup")

    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="user_groups")
    area = models.OneToOneField(
        "areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="area_user_group"
    )
    display_name = models.CharField(max_length=200)
    group_source = models.CharField(max_length=16, choices=UserGroupGroupSource.choices)
    group_type = models.CharField(max_length=16, choices=UserGroupGroupType.choices)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="user_groups")

    class Meta(Entity.Meta):
        indexes = [models.Index(fields=["property", "id"], name="usergroup_property_id_idx")]

    def __str__(self) -> str:
        return self.display_name


class Membership(models.Model):
    """A user in a group (hard rows: removing a member deletes the row, the event remains).
    `valid_from`/`valid_until` (null = unbounded) narrow what the group gives this member in
    the derived access and key maps (a Lockt user's access window; docs/INTEGRATIONS.md)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user_group = models.ForeignKey(UserGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=120, default="system")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["user_group", "user"], name="membership_unique")]
        indexes = [models.Index(fields=["user", "user_group"], name="membership_user_idx")]


class AccessLevel(models.TextChoices):
    """SmartphoneKey access levels (docs/ACCESS.md: what each may do)."""

    OWNER = "OWNER"
    ADMIN = "ADMIN"
    USER = "USER"
    GUEST = "GUEST"


class Schedule(Entity):
    """Named weekly windows in the property's time zone, optionally bounded by validFrom /
    validUntil. `windows` holds the canonical JSON of apps.access.schedules (docs/SCHEDULES.md)."""

    external_refs = GenericRelation("core.ExternalRef", related_query_name="schedule")

    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="schedules")
    display_name = models.CharField(max_length=200)
    windows = models.JSONField(default=list)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta(Entity.Meta):
        indexes = [models.Index(fields=["property", "id"], name="schedule_property_id_idx")]

    def __str__(self) -> str:
        return self.display_name


class AccessGrant(Entity):
    """A person's own access to one lock or one area (with its common sub-areas), at a level,
    for a time. Revoked grants keep their row (revoked_at); expired ones are marked by the
    expiry sweep (expired_at) but stop counting at valid_until on their own."""

    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="access_grants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_grants")
    lock = models.ForeignKey("locks.Lock", null=True, blank=True, on_delete=models.PROTECT, related_name="grants")
    area = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="grants")
    access_level = models.CharField(max_length=8, choices=AccessLevel.choices)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    granted_by = models.CharField(max_length=120, help_text="Actor label of whoever granted it.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=120, blank=True, default="")
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta(Entity.Meta):
        indexes = [
            models.Index(fields=["property", "id"], name="grant_property_id_idx"),
            models.Index(fields=["user", "property"], name="grant_user_idx"),
            models.Index(fields=["valid_until"], name="grant_valid_until_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lock__isnull=False, area__isnull=True)
                | models.Q(lock__isnull=True, area__isnull=False),
                name="grant_one_target",
            )
        ]

    def __str__(self) -> str:
        """ "Guest grant to Dog walker on Unit 1 door": names, as a person reads them."""
        who = self.user.display_name if self.user_id else "someone"
        target = self.lock if self.lock_id else self.area if self.area_id else None
        on = f" on {target.display_name}" if target is not None else ""
        return f"{self.get_access_level_display()} grant to {who}{on}"


class AccessBlock(models.Model):
    """A person blocked at a property: no access there at all, whatever else says so."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    property = models.ForeignKey("properties.Property", on_delete=models.CASCADE, related_name="access_blocks")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_blocks")
    reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=120, default="system")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["property", "user"], name="block_unique")]

    def __str__(self) -> str:
        return f"Block of {self.user.display_name} at {self.property.display_name}"


# --- derived (written only by apps.access.derive) ---------------------------------------------


class LockAccessEntry(models.Model):
    """One line of a lock's effective access (see apps.access.compute.LockEntry)."""

    id = models.BigAutoField(primary_key=True)
    property_id = models.UUIDField(db_index=False)
    lock_id = models.UUIDField()
    kind = models.CharField(max_length=8)  # group | user | open | deny
    subject_id = models.UUIDField(null=True)  # group id or user id
    schedule_id = models.UUIDField(null=True)
    valid_from = models.DateTimeField(null=True)
    valid_until = models.DateTimeField(null=True)
    source = models.CharField(max_length=120)
    source_area_id = models.CharField(max_length=36, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["lock_id"], name="lae_lock_idx"),
            models.Index(fields=["property_id", "subject_id"], name="lae_subject_idx"),
        ]


class LockAccessVersion(models.Model):
    """A lock's access-lines version: the version of its derived lines (its LockAccessEntry rows),
    rising only when their content changes. Not a key map: the signed key map a lock downloads,
    and its own version, belong to apps.locks (`SignedKeyMap`, `Lock.signed_key_map_version`)."""

    lock_id = models.UUIDField(primary_key=True)
    property_id = models.UUIDField(db_index=True)
    version = models.PositiveIntegerField(default=0, verbose_name="access lines version")
    digest = models.CharField(max_length=64, default="")
    entry_count = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)


class UserAccessMap(models.Model):
    """A person's effective access at one property (locks, windows, sources) and its version."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.UUIDField()
    property_id = models.UUIDField()
    entries = models.JSONField(default=list)
    version = models.PositiveIntegerField(default=0)
    digest = models.CharField(max_length=64, default="")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "property_id"], name="uam_unique")]
        indexes = [models.Index(fields=["property_id", "user_id"], name="uam_property_idx")]
